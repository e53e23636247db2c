/** Builds the job core's ports for a step: the local store under state-dir, the MCP task client, the clock, logs. */
import type { CommandContext } from '../core/commands/context.js';
import { systemClock } from '../core/ports.js';
import { McpTaskClient } from '../mcp/task-client.js';
import { LocalJobStore } from '../store/local.js';
import type { ActionHost } from './host.js';

export function commandContext(host: ActionHost, stateDir: string, pollFloorMs?: number): CommandContext {
  return {
    store: new LocalJobStore(stateDir),
    tasks: new McpTaskClient(pollFloorMs === undefined ? {} : { pollFloorMs }),
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
