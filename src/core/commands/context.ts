/** What every command shares: its ports, how it finds a job, and how it records a change. */
import { JobError } from '../errors.js';
import { LATEST } from '../parse.js';
import type {
  Clock,
  JobStore,
  Log,
  ProgressUpdate,
  ServerLogEntry,
  ServerTarget,
  TaskClient,
  TaskSnapshot,
} from '../ports.js';
import {
  applyChange,
  serverName,
  type AppliedChange,
  type JobChange,
  type JobRecord,
  type ServerSpec,
} from '../record.js';
import { localStatus } from '../status.js';
import { inert } from '../text.js';

export interface CommandContext {
  store: JobStore;
  tasks: TaskClient;
  clock: Clock;
  log: Log;
  /** The jitter of retry delays (default Math.random); tests pass a fixed one. */
  random?: () => number;
}

/** Finds a job by ID or `latest` (the newest job of the instance). */
export async function resolveJob(
  ctx: CommandContext,
  instance: string,
  ref: string,
  input = 'job-id',
): Promise<JobRecord> {
  if (ref === LATEST) {
    const newest = await ctx.store.latest(instance);
    if (newest === undefined) {
      throw new JobError(
        'JOB_NOT_FOUND',
        `Input '${input}' is '${LATEST}', but instance '${instance}' has no jobs in ${ctx.store.description}; submit a job first (with the same instance and state-dir)`,
        { input },
      );
    }
    return newest;
  }
  const record = await ctx.store.get(instance, ref);
  if (record === undefined) {
    throw new JobError(
      'JOB_NOT_FOUND',
      `Input '${input}': job ${ref} is not in instance '${instance}' of ${ctx.store.description}; ${ctx.store.explainMissing?.(instance, ref) ?? 'check the job ID, the instance and the state-dir'}`,
      { input, jobId: ref },
    );
  }
  return record;
}

/**
 * Applies a change through the status machine to the job as STORED (not to `current`, which may be stale: another
 * step may have changed or ended the job since it was read) and persists it when something changed. A job another
 * process ended stays ended: the change is refused and the ended record is returned. `current` names the job, and
 * is the fallback when the record has vanished from the store (its state-dir was cleaned): then it is written anew.
 */
export async function record(
  ctx: CommandContext,
  current: JobRecord,
  change: JobChange,
): Promise<{ record: JobRecord; changed: boolean }> {
  let applied: AppliedChange = { record: current, changed: false };
  const stored = await ctx.store.update(current.instance, current.jobId, (latest) => {
    applied = applyChange(latest, change, ctx.clock.now());
    return applied.changed ? applied.record : undefined;
  });
  if (stored !== undefined) return { record: stored, changed: applied.changed };
  applied = applyChange(current, change, ctx.clock.now());
  if (applied.changed) await ctx.store.put(applied.record);
  return applied;
}

/** The change that a task snapshot from the server means for our record. */
export function changeFromSnapshot(task: TaskSnapshot): JobChange {
  const change: JobChange = { status: localStatus(task.status), remoteStatus: task.status };
  if (task.statusMessage !== undefined) change.statusMessage = task.statusMessage;
  if (task.ttlMs !== undefined) change.ttlMs = task.ttlMs;
  if (task.pollIntervalMs !== undefined) change.pollIntervalMs = task.pollIntervalMs;
  if (task.createdAt !== undefined || task.lastUpdatedAt !== undefined) {
    change.serverTimes = {
      ...(task.createdAt === undefined ? {} : { createdAt: task.createdAt }),
      ...(task.lastUpdatedAt === undefined ? {} : { lastUpdatedAt: task.lastUpdatedAt }),
    };
  }
  return change;
}

/**
 * One log line per progress report: `job_x: progress 40/100: Uploading`. Numbers as the server sent them (a total
 * it did not give is left out); the message is made inert like a status message.
 */
export function progressLine(jobId: string, update: ProgressUpdate): string {
  const of = update.total === undefined ? '' : `/${formatNumber(update.total)}`;
  const message = update.message === undefined ? '' : `: ${inert(update.message)}`;
  return `${jobId}: progress ${formatNumber(update.progress)}${of}${message}`;
}

function formatNumber(n: number): string {
  return Number.isInteger(n) ? String(n) : String(Math.round(n * 100) / 100);
}

/**
 * One log line per status change: `job_x: running (remote working): Gathering sources...`. The status message is the
 * server's text: made inert, it stays on this line and cannot become a workflow command.
 */
export function statusLine(record: JobRecord): string {
  const remote =
    record.remoteStatus !== undefined && localStatus(record.remoteStatus) !== record.status
      ? ` (server: ${record.remoteStatus})`
      : '';
  const message = record.statusMessage !== undefined ? `: ${inert(record.statusMessage)}` : '';
  return `${record.jobId}: ${record.status}${remote}${message}`;
}

/**
 * Relays a server's log message at its level: debug as debug, info and notice as info, warning and worse as a
 * warning (an error annotation would say the step failed, which only the job's end decides). The text is inert.
 */
export function relayServerLog(log: Log, jobId: string, entry: ServerLogEntry): void {
  const line = `${jobId}: server ${entry.level}${entry.logger === undefined ? '' : ` (${inert(entry.logger)})`}: ${inert(entry.text)}`;
  if (entry.level === 'debug') log.debug(line);
  else if (entry.level === 'info' || entry.level === 'notice') log.info(line);
  else log.warning(line);
}

/** How a later step reaches a recorded job's server: its URL or command, and the runner that owns the call. */
export function targetOf(job: JobRecord, headers: Record<string, string>): ServerTarget {
  return {
    url: serverName(job.server),
    headers,
    ...(job.server.transport === 'stdio' ? { stdio: { command: job.server.command, cwd: job.server.cwd } } : {}),
    ...(job.runner === undefined ? {} : { runner: job.runner }),
    ...(job.kind === undefined ? {} : { kind: job.kind }),
  };
}

/** What a record keeps of a submit's server: the URL, or the command and its directory (never headers or env). */
export function serverSpecOf(target: ServerTarget): ServerSpec {
  return target.stdio === undefined
    ? { transport: 'streamable-http', url: target.url }
    : { transport: 'stdio', command: target.stdio.command, cwd: target.stdio.cwd };
}
