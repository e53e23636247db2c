/** Builds the job core's ports for a step: the job store, the task client (placement.ts), the clock, logs. */
import type { CommandContext } from '../core/commands/context.js';
import type { InputResponses } from '../core/parse.js';
import { systemClock, type Fallback } from '../core/ports.js';
import { secretEnvValues } from '../core/text.js';
import { lazyMcpTaskClient, lazyPlacementTaskClient } from '../runner/lazy.js';
import { createJobStore } from '../store/select.js';
import type { ActionHost } from './host.js';
import type { CommonSettings } from './settings.js';

export interface PlacementChoice {
  fallback?: Fallback;
  /** The step waits for the call itself (the root action): task-less calls and stdio servers run in-process. */
  inProcess?: boolean;
}

export function commandContext(
  host: ActionHost,
  settings: CommonSettings & { instance: string },
  options: { inputResponses?: InputResponses } & PlacementChoice = {},
): CommandContext {
  const store = createJobStore({
    kind: settings.store,
    stateDir: settings.stateDir,
    retentionDays: settings.retentionDays,
    log: host.log,
  });
  const env = process.env;
  // What a stdio server may print of the step's secrets is masked in our logs too.
  for (const value of secretEnvValues(env)) host.setSecret(value);
  return {
    store,
    tasks: lazyPlacementTaskClient({
      stateDir: settings.stateDir,
      instance: settings.instance,
      store: settings.store,
      retentionDays: settings.retentionDays,
      records: store,
      log: host.log,
      fallback: options.fallback ?? 'background',
      inProcess: options.inProcess ?? false,
      env,
      http: lazyMcpTaskClient({
        ...(options.inputResponses === undefined ? {} : { inputResponses: options.inputResponses }),
        warn: (message) => host.log.warning(message),
      }),
      ...(options.inputResponses === undefined ? {} : { inputResponses: options.inputResponses }),
    }),
    clock: systemClock,
    log: host.log,
  };
}

const PROVENANCE: Record<string, string> = {
  repository: 'GITHUB_REPOSITORY',
  workflow: 'GITHUB_WORKFLOW',
  runId: 'GITHUB_RUN_ID',
  runAttempt: 'GITHUB_RUN_ATTEMPT',
  job: 'GITHUB_JOB',
  ref: 'GITHUB_REF',
  sha: 'GITHUB_SHA',
  actor: 'GITHUB_ACTOR',
};

/** Where a job was submitted from, from the runner's environment (only what is set). */
export function githubProvenance(host: ActionHost): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, variable] of Object.entries(PROVENANCE)) {
    const value = host.env(variable);
    if (value !== undefined && value !== '') out[key] = value;
  }
  return out;
}
