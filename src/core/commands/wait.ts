/**
 * wait: follow a job to its end, recording every status change as it happens. A terminal record answers at once
 * without the server. The wait ends early on its deadline (cancelling the remote task unless told not to) or on an
 * interrupt (always cancelling: the step is going away and must not leave work running).
 */
import { aboutJob, describeError, isJobError, JobError } from '../errors.js';
import { formatDuration } from '../parse.js';
import type { ServerTarget, TaskConnection, TaskOutcome } from '../ports.js';
import type { JobChange, JobRecord, RemoteRef } from '../record.js';
import { isTerminal, localStatus } from '../status.js';
import { changeFromSnapshot, record, resolveJob, statusLine, type CommandContext } from './context.js';

export interface WaitRequest {
  instance: string;
  /** A job ID or `latest`. */
  job: string;
  headers: Record<string, string>;
  /** Overrides the deadline recorded at submit: the wait gives up this long after it starts. */
  timeoutMs?: number;
  cancelOnTimeout: boolean;
  pollFloorMs?: number;
  interrupt?: AbortSignal;
  /** How long to keep trying an unreachable server when the job has no deadline. */
  unreachableGraceMs?: number;
  /** Whether answers to input requests were supplied; without them a job that asks for input ends the wait. */
  answersInput?: boolean;
  /** Called with every recorded change, for live logs. */
  onChange?: (record: JobRecord) => void;
}

export type WaitEnd =
  /** The job is terminal: finished on the server, or canceled by this wait. */
  | 'terminal'
  /** The deadline passed and the remote task was left running (`cancel-on-timeout: false`). */
  | 'timeout'
  /** The step was stopped and the remote task could not be cancelled: the record stays unfinished. */
  | 'interrupted';

export interface WaitResult {
  record: JobRecord;
  end: WaitEnd;
  /** True when the record was already terminal and the server was not contacted. */
  fromRecord: boolean;
}

export const DEFAULT_UNREACHABLE_GRACE_MS = 5 * 60_000;
const BACKOFF_START_MS = 250;
const BACKOFF_MAX_MS = 10_000;
const CANCEL_GRACE_MS = 5_000;

class DeadlineReached extends Error {}

export async function waitJob(ctx: CommandContext, req: WaitRequest): Promise<WaitResult> {
  let job = await resolveJob(ctx, req.instance, req.job);
  if (isTerminal(job.status)) return { record: job, end: 'terminal', fromRecord: true };

  const remote = job.remote;
  if (remote === undefined) {
    job = (
      await record(ctx, job, {
        status: 'failed',
        error: {
          code: 'TASK_LOST',
          message: `Job ${job.jobId} has no task: its submit step ended before the server created one`,
        },
      })
    ).record;
    return { record: job, end: 'terminal', fromRecord: false };
  }

  const started = ctx.clock.now().getTime();
  const deadline =
    req.timeoutMs !== undefined
      ? started + req.timeoutMs
      : job.deadline !== undefined
        ? Date.parse(job.deadline)
        : undefined;
  const target: ServerTarget = { url: job.server.url, headers: req.headers };

  // One signal for "stop waiting": the deadline or the interrupt, whichever comes first.
  const stop = new AbortController();
  const onInterrupt = (): void => stop.abort(req.interrupt?.reason);
  req.interrupt?.addEventListener('abort', onInterrupt, { once: true });
  if (req.interrupt?.aborted) onInterrupt();
  const timer =
    deadline === undefined ? undefined : armDeadline(ctx, deadline, () => stop.abort(new DeadlineReached()));

  const track = async (change: JobChange): Promise<void> => {
    const applied = await record(ctx, job, change);
    job = applied.record;
    if (applied.changed) {
      ctx.log.info(statusLine(job));
      req.onChange?.(job);
    }
  };

  let connection: TaskConnection | undefined;
  /** Set while the server is unreachable: when the deadline passes then, there is nobody to send a cancel to. */
  let unreachable: { since: number; error: JobError } | undefined;
  try {
    let backoff = BACKOFF_START_MS;
    for (;;) {
      try {
        connection ??= await ctx.tasks.open(target, remote, stop.signal);
        const outcome = await connection.watch(remote, {
          signal: stop.signal,
          ...(req.pollFloorMs === undefined ? {} : { pollFloorMs: req.pollFloorMs }),
          onStatus: (task) => {
            // The server answered: whatever failed before is over. (A rejoin alone proves nothing: it sends nothing.)
            unreachable = undefined;
            // A terminal status is recorded from the outcome, which carries the result with it.
            if (isTerminal(localStatus(task.status))) return undefined;
            return track(changeFromSnapshot(task)).then(() => {
              if (task.status === 'input_required' && req.answersInput !== true) throw needsInput(job);
            });
          },
        });
        await track(changeFromOutcome(outcome));
        return { record: job, end: 'terminal', fromRecord: false };
      } catch (error) {
        if (stop.signal.aborted) throw stop.signal.reason;
        if (isJobError(error, 'TASK_LOST')) {
          await track({ status: 'failed', error: { code: error.code, message: error.message } });
          return { record: job, end: 'terminal', fromRecord: false };
        }
        if (!isJobError(error)) throw error;
        if (!error.retryable) throw aboutJob(error, job.jobId);
        // The server went away: keep trying until the deadline (or a grace period when there is none).
        const now = ctx.clock.now().getTime();
        unreachable = { since: unreachable?.since ?? now, error };
        const giveUpAt = deadline ?? unreachable.since + (req.unreachableGraceMs ?? DEFAULT_UNREACHABLE_GRACE_MS);
        if (now >= giveUpAt) throw stillUnreachable(job, unreachable, now);
        ctx.log.warning(`${job.jobId}: ${error.message}; retrying in ${formatDuration(backoff)}`);
        await connection?.close();
        connection = undefined;
        await ctx.clock.sleep(Math.min(backoff, Math.max(0, giveUpAt - now)), stop.signal).catch(() => {
          /* the loop head sees the abort */
        });
        if (stop.signal.aborted) throw stop.signal.reason;
        backoff = Math.min(backoff * 2, BACKOFF_MAX_MS);
      }
    }
  } catch (error) {
    if (!stop.signal.aborted || error !== stop.signal.reason) throw error;
    const byDeadline = error instanceof DeadlineReached;
    if (byDeadline && unreachable !== undefined) throw stillUnreachable(job, unreachable, ctx.clock.now().getTime());
    const waited = formatDuration(ctx.clock.now().getTime() - started);
    if (byDeadline && !req.cancelOnTimeout) {
      ctx.log.warning(
        `${job.jobId}: gave up waiting after ${waited}; the task is left running (cancel-on-timeout is false)`,
      );
      return { record: job, end: 'timeout', fromRecord: false };
    }
    const reason = byDeadline ? 'timeout' : 'signal';
    ctx.log.warning(
      byDeadline
        ? `${job.jobId}: timed out after ${waited}; cancelling task ${remote.taskId}`
        : `${job.jobId}: the step is being stopped; cancelling task ${remote.taskId}`,
    );
    job = await cancelRemote(ctx, job, remote, target, connection, reason);
    const end: WaitEnd = isTerminal(job.status) ? 'terminal' : byDeadline ? 'timeout' : 'interrupted';
    return { record: job, end, fromRecord: false };
  } finally {
    timer?.cancel();
    req.interrupt?.removeEventListener('abort', onInterrupt);
    await connection?.close();
  }
}

/** Node timers overflow past 2^31-1 ms (about 24.8 days) and fire at once: re-arm in steps until the deadline. */
const MAX_TIMER_MS = 2_147_483_647;

function armDeadline(ctx: CommandContext, deadline: number, fire: () => void): { cancel(): void } {
  let handle: ReturnType<typeof setTimeout>;
  const arm = (): void => {
    const left = deadline - ctx.clock.now().getTime();
    handle = left > MAX_TIMER_MS ? setTimeout(arm, MAX_TIMER_MS) : setTimeout(fire, Math.max(0, left));
  };
  arm();
  return { cancel: () => clearTimeout(handle) };
}

function needsInput(job: JobRecord): JobError {
  return new JobError(
    'INPUT_REQUIRED',
    `Job ${job.jobId} needs input${job.statusMessage ? `: ${job.statusMessage}` : ''}. Answer it with the input-responses input of wait (a JSON object from input keys, or "*", to answers like {"action": "accept", "content": {...}}), or cancel the job`,
    { jobId: job.jobId, input: 'input-responses', retryable: false },
  );
}

function stillUnreachable(job: JobRecord, unreachable: { since: number; error: JobError }, now: number): JobError {
  return new JobError(
    'SERVER_UNREACHABLE',
    `${job.server.url} stayed unreachable for ${formatDuration(now - unreachable.since)} until the wait gave up on job ${job.jobId}; task ${job.remote?.taskId ?? ''} may still be running there (cancel it once the server is back). Last error: ${unreachable.error.message}`,
    { jobId: job.jobId, cause: unreachable.error, retryable: false },
  );
}

/**
 * Cancels the remote task on our own account (timeout or signal) and records what the server then holds. Bounded in
 * time: the runner kills the process 10 s after its first signal.
 */
async function cancelRemote(
  ctx: CommandContext,
  job: JobRecord,
  remote: RemoteRef,
  target: ServerTarget,
  connection: TaskConnection | undefined,
  reason: 'timeout' | 'signal',
): Promise<JobRecord> {
  const bound = AbortSignal.timeout(CANCEL_GRACE_MS);
  let conn = connection;
  try {
    conn ??= await ctx.tasks.open(target, remote, bound);
    const after = await conn.cancel(remote, bound);
    if (after.status === 'completed' || after.status === 'failed') {
      // The task ended before the cancel reached it: record its real end, result included.
      const outcome = await conn.watch(remote, { signal: bound, onStatus: () => undefined });
      return (await record(ctx, job, changeFromOutcome(outcome))).record;
    }
    const change = changeFromSnapshot(after);
    if (change.status === 'canceled') change.cancelReason = reason;
    return (await record(ctx, job, change)).record;
  } catch (error) {
    // The record stays unfinished, so a later cancel (or the post step) can try again.
    ctx.log.warning(`${job.jobId}: cancelling task ${remote.taskId} failed: ${describeError(error)}`);
    return job;
  } finally {
    if (conn !== connection) await conn?.close();
  }
}

/** What a task's end means for our record. */
export function changeFromOutcome(outcome: TaskOutcome): JobChange {
  const task = outcome.task === undefined ? {} : changeFromSnapshot(outcome.task);
  switch (outcome.status) {
    case 'completed':
      return { ...task, status: 'completed', remoteStatus: 'completed', result: outcome.result };
    case 'failed':
      return {
        ...task,
        status: 'failed',
        remoteStatus: 'failed',
        ...(outcome.result === undefined ? {} : { result: outcome.result }),
        error: {
          code: 'TASK_FAILED',
          message: outcome.error.message,
          ...(outcome.error.code === undefined
            ? {}
            : {
                data: {
                  rpcCode: outcome.error.code,
                  ...(outcome.error.data === undefined ? {} : { data: outcome.error.data }),
                },
              }),
        },
      };
    case 'cancelled':
      return { ...task, status: 'canceled', remoteStatus: 'cancelled' };
  }
}
