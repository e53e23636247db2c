/**
 * wait: follow a job to its end, recording every status change as it happens. A terminal record answers at once
 * without the server. The wait ends early on its deadline (cancelling the remote task unless told not to) or on an
 * interrupt (always cancelling: the step is going away and must not leave work running).
 *
 * Only the server ends a job. A transport failure of any kind (refused, reset, HTTP 5xx or 429, a request that got
 * no answer, a garbled reply) is retried with capped backoff until the deadline, or a grace period when there is
 * none; the wait then goes on as if nothing happened. A server that no longer knows the task is TASK_LOST: the wait
 * fails, the record keeps its last status and says why.
 */
import { aboutJob, describeError, isJobError, JobError } from '../errors.js';
import { formatDuration } from '../parse.js';
import type { ProgressUpdate, ServerTarget, TaskConnection, TaskOutcome } from '../ports.js';
import { serverName, type JobChange, type JobRecord, type RemoteRef } from '../record.js';
import { backoff } from '../retry.js';
import { isTerminal, localStatus } from '../status.js';
import { inert } from '../text.js';
import {
  changeFromSnapshot,
  progressLine,
  record,
  relayServerLog,
  resolveJob,
  statusLine,
  targetOf,
  type CommandContext,
} from './context.js';

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
  /** The job's record as the caller has just read it (a fan-in reads them all first): saves reading it again. */
  known?: JobRecord;
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
const CANCEL_GRACE_MS = 5_000;
const PROGRESS_EVERY_MS = 2_000;

class DeadlineReached extends Error {}

export async function waitJob(ctx: CommandContext, req: WaitRequest): Promise<WaitResult> {
  let job = req.known?.jobId === req.job ? req.known : await resolveJob(ctx, req.instance, req.job);
  if (isTerminal(job.status)) return { record: job, end: 'terminal', fromRecord: true };
  if (job.remote === undefined && job.callSession === undefined) {
    job = (
      await record(ctx, job, {
        status: 'failed',
        error: {
          code: 'TASK_LOST',
          message: `Job ${job.jobId} has no task: its submit step ended before it sent the tool call`,
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
  const target: ServerTarget = targetOf(job, req.headers);

  // One signal for "stop waiting": the deadline or the interrupt, whichever comes first.
  const stop = new AbortController();
  const onInterrupt = (): void => stop.abort(req.interrupt?.reason);
  req.interrupt?.addEventListener('abort', onInterrupt, { once: true });
  if (req.interrupt?.aborted) onInterrupt();
  const timer =
    deadline === undefined ? undefined : armDeadline(ctx, deadline, () => stop.abort(new DeadlineReached()));

  // Changes are recorded one at a time, in the order they happened: a status change still being written must not
  // land after the final result.
  let writes: Promise<unknown> = Promise.resolve();
  const track = (change: JobChange, quiet = false): Promise<void> => {
    const write = writes.then(async () => {
      const applied = await record(ctx, job, change);
      const ended = !isTerminal(job.status) && isTerminal(applied.record.status);
      job = applied.record;
      // The end is logged even when another process (the job runner that owns the call) recorded it first.
      if (applied.changed || ended) {
        if (!quiet) ctx.log.info(statusLine(job));
        req.onChange?.(job);
      }
    });
    writes = write.catch(() => undefined);
    return write;
  };

  // Progress is logged and recorded at most once per PROGRESS_EVERY_MS (and always when it reaches its total).
  let progressAt = Number.NEGATIVE_INFINITY;
  const onProgress = (update: ProgressUpdate): Promise<void> | undefined => {
    const now = ctx.clock.now();
    const last = update.total !== undefined && update.progress >= update.total;
    if (!last && now.getTime() - progressAt < PROGRESS_EVERY_MS) return undefined;
    progressAt = now.getTime();
    ctx.log.info(progressLine(job.jobId, update));
    // A call the job runner (or this process's engine) owns is recorded by it, progress included: a second writer
    // here could only repeat it, with a status this copy of the record may no longer hold.
    if (ownedByEngine(job)) return undefined;
    return track({ status: job.status, progress: { ...update, at: now.toISOString() } }, true);
  };

  let connection: TaskConnection | undefined;
  /** Set while the server is unreachable: when the deadline passes then, there is nobody to send a cancel to. */
  let unreachable: { since: number; error: JobError } | undefined;
  const pause = backoff(undefined, ctx.random);
  const reachable = (): void => {
    if (unreachable === undefined) return;
    ctx.log.info(
      `${job.jobId}: ${serverName(job.server)} answers again after ${formatDuration(ctx.clock.now().getTime() - unreachable.since)}`,
    );
    unreachable = undefined;
    pause.reset();
  };
  try {
    for (;;) {
      try {
        const remote = job.remote;
        connection ??= await ctx.tasks.open(target, remote ?? job.callSession, stop.signal, deadline);
        if (remote === undefined) {
          const found = await adoptLostTask(ctx, job, connection, stop.signal);
          reachable();
          if (found === undefined) {
            await track({
              status: 'failed',
              error: {
                code: 'TASK_LOST',
                message: `Job ${job.jobId} has no task: the server's session holds none, so its submit step ended before the server created one`,
              },
            });
            return { record: job, end: 'terminal', fromRecord: false };
          }
          await track(found);
          continue;
        }
        if (job.status === 'input_required' && job.pendingInput?.delivered === true) {
          await refuseUnanswerable(job, connection, remote, stop.signal, track);
        }
        const outcome = await connection.watch(remote, {
          signal: stop.signal,
          ...(req.pollFloorMs === undefined ? {} : { pollFloorMs: req.pollFloorMs }),
          onProgress,
          onLog: (entry) => relayServerLog(ctx.log, job.jobId, entry),
          onStatus: (task) => {
            // The server answered: whatever failed before is over. (A rejoin alone proves nothing: it sends nothing.)
            reachable();
            // A terminal status is recorded from the outcome, which carries the result with it.
            if (isTerminal(localStatus(task.status))) return undefined;
            const change = changeFromSnapshot(task);
            if (task.status === 'working') change.pendingInput = null;
            return track(change).then(() => {
              if (task.status === 'input_required' && req.answersInput !== true) throw needsInput(job);
            });
          },
          onQuestion: async (question, answered) => {
            // A question tied to the task puts it in input_required on the server too (its poll may not show it
            // before the answer moved it on); one sent on the session's own stream says nothing of the task.
            await track({
              status: 'input_required',
              ...(question.taskId === remote.taskId ? { remoteStatus: 'input_required' as const } : {}),
              statusMessage: question.message,
              pendingInput: answered
                ? null
                : {
                    message: question.message,
                    askedAt: ctx.clock.now().toISOString(),
                    delivered: remote.generation === '2025-11-25',
                  },
            });
            if (answered)
              ctx.log.info(`${job.jobId}: answered the server's ${inert(question.message)} from input-responses`);
          },
        });
        // The server answered with the end (a blocking result may come while polls still fail): it is back.
        reachable();
        await track(changeFromOutcome(outcome));
        return { record: job, end: 'terminal', fromRecord: false };
      } catch (error) {
        if (stop.signal.aborted) throw stop.signal.reason;
        if (isJobError(error, 'TASK_LOST')) {
          // The record keeps its last status: only the server ends a job, and this one says nothing more of it.
          await track({ status: job.status, error: { code: error.code, message: error.message } });
          throw aboutJob(error, job.jobId);
        }
        if (!isJobError(error)) throw error;
        if (!error.retryable) throw aboutJob(error, job.jobId);
        // The server went away: keep trying until the deadline (or a grace period when there is none).
        const now = ctx.clock.now().getTime();
        const first = unreachable === undefined;
        unreachable = { since: unreachable?.since ?? now, error };
        const giveUpAt = deadline ?? unreachable.since + (req.unreachableGraceMs ?? DEFAULT_UNREACHABLE_GRACE_MS);
        if (now >= giveUpAt) {
          // The deadline is the deadline, whether its timer or a failed request noticed it first.
          if (deadline === undefined) throw stillUnreachable(job, unreachable, now);
          stop.abort(new DeadlineReached());
          throw stop.signal.reason;
        }
        const delay = pause.next();
        // Once per outage, then quietly: a long outage must not flood the log.
        if (first) {
          ctx.log.warning(
            `${job.jobId}: ${error.message}; retrying until ${deadline === undefined ? `${formatDuration(giveUpAt - now)} from now` : 'the deadline'} (the job is not affected)`,
          );
        } else ctx.log.debug(`${job.jobId}: still unreachable (${error.message}); next try in ${delay} ms`);
        await connection?.close();
        connection = undefined;
        await ctx.clock.sleep(Math.min(delay, Math.max(0, giveUpAt - now)), stop.signal).catch(() => {
          /* the loop head sees the abort */
        });
        if (stop.signal.aborted) throw stop.signal.reason;
      }
    }
  } catch (error) {
    await writes;
    if (!stop.signal.aborted || error !== stop.signal.reason) throw error;
    const byDeadline = error instanceof DeadlineReached;
    const lastOutage = unreachable;
    const waited = formatDuration(ctx.clock.now().getTime() - started);
    if (byDeadline && !req.cancelOnTimeout) {
      if (lastOutage !== undefined) throw stillUnreachable(job, lastOutage, ctx.clock.now().getTime());
      ctx.log.warning(
        `${job.jobId}: gave up waiting after ${waited}; the task is left running (cancel-on-timeout is false)`,
      );
      return { record: job, end: 'timeout', fromRecord: false };
    }
    const reason = byDeadline ? 'timeout' : 'signal';
    const taskName = job.remote === undefined ? 'its task' : `task ${inert(job.remote.taskId)}`;
    ctx.log.warning(
      byDeadline
        ? `${job.jobId}: timed out after ${waited}; cancelling ${taskName}`
        : `${job.jobId}: the step is being stopped; cancelling ${taskName}`,
    );
    await connection?.close();
    connection = undefined;
    // Tried even when the server was unreachable a moment ago: it may be back, and the attempt is bounded.
    job = await cancelRemote(ctx, job, target, reason);
    if (byDeadline && lastOutage !== undefined && !isTerminal(job.status)) {
      throw stillUnreachable(job, lastOutage, ctx.clock.now().getTime());
    }
    const end: WaitEnd = isTerminal(job.status) ? 'terminal' : byDeadline ? 'timeout' : 'interrupted';
    return { record: job, end, fromRecord: false };
  } finally {
    timer?.cancel();
    req.interrupt?.removeEventListener('abort', onInterrupt);
    await connection?.close();
  }
}

/**
 * A job whose submit sent the call but never got its reply (killed, network gone): look in the session the call
 * went over for the task it created. Returns the change that adopts it, or undefined when the server holds none.
 * A protocol that cannot list tasks (2026-07-28) makes the task impossible to find: TASK_LOST.
 */
export async function adoptLostTask(
  ctx: CommandContext,
  job: JobRecord,
  connection: TaskConnection,
  signal?: AbortSignal,
): Promise<JobChange | undefined> {
  const session = job.callSession!;
  const tasks = await connection.sessionTasks(signal);
  if (tasks === undefined) {
    throw new JobError(
      'TASK_LOST',
      `Job ${job.jobId}: its submit step sent the call but never learned the task it created, and protocol ${session.generation} offers no way to list tasks, so it cannot be found; check the server, and cancel the task there if it runs`,
      { jobId: job.jobId, retryable: false },
    );
  }
  const task = tasks.at(-1);
  if (task === undefined) return undefined;
  ctx.log.info(
    `${job.jobId}: adopting task ${inert(task.taskId)}, created by a submit step that never got the server's reply`,
  );
  const change = changeFromSnapshot(task);
  // A task that already ended is recorded from the wait's outcome, which carries its result.
  if (isTerminal(change.status)) return { status: 'running', remote: { ...session, taskId: task.taskId } };
  return { ...change, remote: { ...session, taskId: task.taskId } };
}

/**
 * A 2025-11-25 question reaches one process only: the one whose stream was open when the server sent it. When an
 * earlier wait met it and went away, no later wait can answer it: say so at once instead of waiting in silence
 * until the timeout. Unless the server went on meanwhile (it reports something other than input_required).
 */
async function refuseUnanswerable(
  job: JobRecord,
  connection: TaskConnection,
  remote: RemoteRef,
  signal: AbortSignal,
  track: (change: JobChange) => Promise<void>,
): Promise<void> {
  const now = await connection.snapshot(remote, signal);
  if (now.status !== 'input_required') {
    await track({ ...changeFromSnapshot(now), pendingInput: null });
    return;
  }
  throw new JobError(
    'INPUT_REQUIRED',
    `Job ${job.jobId} asked for input (${inert(job.pendingInput?.message ?? '')}) in an earlier step, which could not answer it. A 2025-11-25 server sends its question once, on the stream that was open then, so no later step can answer it: cancel the job and submit it again with input-responses given to the step that waits first (or to the root action)`,
    { jobId: job.jobId, input: 'input-responses', retryable: false },
  );
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
    `Job ${job.jobId} needs input${job.statusMessage ? `: ${inert(job.statusMessage)}` : ''}. Answer it with the input-responses input of wait (a JSON object from input keys, or "*", to answers like {"action": "accept", "content": {...}}), or cancel the job`,
    { jobId: job.jobId, input: 'input-responses', retryable: false },
  );
}

function stillUnreachable(job: JobRecord, unreachable: { since: number; error: JobError }, now: number): JobError {
  return new JobError(
    'SERVER_UNREACHABLE',
    `${serverName(job.server)} stayed unreachable for ${formatDuration(now - unreachable.since)} until the wait gave up on job ${job.jobId}; ${job.remote === undefined ? 'its task' : `task ${inert(job.remote.taskId)}`} may still be running there (cancel it once the server is back). Last error: ${unreachable.error.message}`,
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
  target: ServerTarget,
  reason: 'timeout' | 'signal',
): Promise<JobRecord> {
  const bound = AbortSignal.timeout(CANCEL_GRACE_MS);
  let connection: TaskConnection | undefined;
  try {
    // A connection of its own: the wait's is bounded by the deadline that may just have passed.
    connection = await ctx.tasks.open(target, job.remote ?? job.callSession, bound, Date.now() + CANCEL_GRACE_MS);
    return await cancelOn(ctx, job, connection, reason, bound);
  } catch (error) {
    // The record stays unfinished, so a later cancel (or the post step) can try again.
    const task = job.remote === undefined ? 'the task' : `task ${inert(job.remote.taskId)}`;
    ctx.log.warning(`${job.jobId}: cancelling ${task} failed: ${describeError(error)}`);
    return job;
  } finally {
    await connection?.close();
  }
}

/**
 * Cancels a job's task over an open connection and records what the server then holds: the shared core of the
 * cancel command, the wait's own timeout and signal cancels. A job whose submit never learned its task is looked
 * up in the call's session first; when the server holds none, there is nothing to cancel.
 */
export async function cancelOn(
  ctx: CommandContext,
  job: JobRecord,
  connection: TaskConnection,
  reason: 'timeout' | 'signal' | 'user',
  signal: AbortSignal | undefined,
  note?: string,
): Promise<JobRecord> {
  let current = job;
  if (current.remote === undefined) {
    const found = await adoptLostTask(ctx, current, connection, signal);
    if (found === undefined) {
      return (
        await record(ctx, current, {
          status: 'canceled',
          cancelReason: reason,
          statusMessage: `Canceled before a task existed (the server's session holds none)${note ? `: ${note}` : ''}`,
        })
      ).record;
    }
    current = (await record(ctx, current, found)).record;
  }
  const remote = current.remote!;
  const after = await connection.cancel(remote, signal, { reason, ...(note ? { note } : {}) });
  if (after.status === 'completed' || after.status === 'failed') {
    // The task ended before the cancel reached it: record its real end, result included.
    const outcome = await connection.watch(remote, {
      signal: signal ?? new AbortController().signal,
      onStatus: () => undefined,
    });
    return (await record(ctx, current, changeFromOutcome(outcome))).record;
  }
  const change = changeFromSnapshot(after);
  if (change.status === 'canceled') {
    change.cancelReason = reason;
    if (note) change.statusMessage = `Canceled: ${note}`;
  }
  return (await record(ctx, current, change)).record;
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

/** Whether a job's call is owned by the call engine (the job runner, or an in-process call): stdio or plain calls. */
function ownedByEngine(job: JobRecord): boolean {
  return job.runner !== undefined || job.kind === 'call' || job.server.transport === 'stdio';
}
