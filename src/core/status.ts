/**
 * The job status machine. Local statuses are ours; the remote status (what the MCP server says) is kept beside them.
 * Terminal statuses absorb: once a job completed, failed or was canceled, nothing changes it again.
 */
export const JOB_STATUSES = ['queued', 'running', 'input_required', 'completed', 'failed', 'canceled'] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];

export const TERMINAL_STATUSES: ReadonlySet<JobStatus> = new Set(['completed', 'failed', 'canceled']);

export function isTerminal(status: JobStatus): boolean {
  return TERMINAL_STATUSES.has(status);
}

/** Task statuses as the servers report them (both protocol generations use these words). */
export const REMOTE_STATUSES = ['working', 'input_required', 'completed', 'failed', 'cancelled'] as const;
export type RemoteStatus = (typeof REMOTE_STATUSES)[number];

/** The one table from a server's task status to ours. */
const FROM_REMOTE: Record<RemoteStatus, JobStatus> = {
  working: 'running',
  input_required: 'input_required',
  completed: 'completed',
  failed: 'failed',
  cancelled: 'canceled',
};

export function localStatus(remote: RemoteStatus): JobStatus {
  return FROM_REMOTE[remote];
}

const ALLOWED: Record<JobStatus, readonly JobStatus[]> = {
  queued: ['running', 'input_required', 'completed', 'failed', 'canceled'],
  running: ['input_required', 'completed', 'failed', 'canceled'],
  input_required: ['running', 'completed', 'failed', 'canceled'],
  completed: [],
  failed: [],
  canceled: [],
};

/** Whether `from` may move to `to`. Staying in a non-terminal status (a new status message) is allowed. */
export function canTransition(from: JobStatus, to: JobStatus): boolean {
  if (from === to) return !isTerminal(from);
  return ALLOWED[from].includes(to);
}
