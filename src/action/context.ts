/** Builds the job core's ports for a step: the local store under state-dir, the MCP task client, the clock, logs. */
import type { CommandContext } from '../core/commands/context.js';
import type { InputResponses } from '../core/parse.js';
import { systemClock, type TaskClient } from '../core/ports.js';
import { createJobStore } from '../store/select.js';
import type { CommonSettings } from './settings.js';
import type { ActionHost } from './host.js';

export function commandContext(
  host: ActionHost,
  settings: CommonSettings,
  options: { inputResponses?: InputResponses } = {},
): CommandContext {
  return {
    store: createJobStore({
      kind: settings.store,
      stateDir: settings.stateDir,
      retentionDays: settings.retentionDays,
      log: host.log,
    }),
    tasks: lazyTaskClient({ ...options, warn: (message) => host.log.warning(message) }),
    clock: systemClock,
    log: host.log,
  };
}

/**
 * The MCP client stack is most of the bundle: load it only when a server is really contacted, so a step answered
 * from the job record (a finished job, a bad input) starts and ends fast.
 */
function lazyTaskClient(options: { inputResponses?: InputResponses; warn?: (message: string) => void }): TaskClient {
  return {
    open: async (target, join, signal, deadline) => {
      const { McpTaskClient } = await import('../mcp/task-client.js');
      return new McpTaskClient(options).open(target, join, signal, deadline);
    },
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
