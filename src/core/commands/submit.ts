/**
 * submit: record the job, start the tool call as a task, record the task. The record is written before the server
 * is contacted, so a step killed mid-submit never leaves a task nobody knows about.
 */
import { aboutJob, describeError, isJobError, JobError } from '../errors.js';
import { redactArguments, type JsonObject } from '../parse.js';
import type { ServerTarget, SubmittedTask, TaskConnection, TaskSnapshot } from '../ports.js';
import { backoff } from '../retry.js';
import { inert } from '../text.js';
import { createRecord, type JobChange, type JobRecord } from '../record.js';
import { isTerminal } from '../status.js';
import { changeFromSnapshot, record, serverSpecOf, statusLine, type CommandContext } from './context.js';
import { changeFromOutcome } from './wait.js';
import { claimJobKey } from './job-key.js';

export interface SubmitRequest {
  instance: string;
  server: ServerTarget;
  tool: string;
  arguments: JsonObject;
  /** Argument paths whose values are stored as `***`. */
  redact: string[];
  ttlMs?: number;
  /** When the job should be given up (from `timeout-minutes`). */
  deadline?: Date;
  github?: Record<string, string>;
  /** Aborted when the step is being stopped (SIGINT/SIGTERM). */
  interrupt?: AbortSignal;
  /** Idempotency key: an unfinished job submitted with the same key (in this run) is adopted, not submitted again. */
  jobKey?: string;
  /** With a jobKey: adopt a job with the key even when it has ended, instead of submitting anew. */
  reuseTerminal?: boolean;
}

const CANCEL_GRACE_MS = 5_000;
/** How long a submit whose call reply was lost keeps looking for the task the call may have created. */
const RECOVERY_GRACE_MS = 30_000;
/** Bounds each look-up: its own, as the submit's deadline may be what cut the call short. */
const LOOKUP_TIMEOUT_MS = 10_000;
/**
 * How long submit keeps trying to connect when the server cannot be reached and the job has no earlier deadline.
 * Nothing has been sent yet, so a retry is always safe; a blip (a restarting server, a dropped connection) must not
 * fail the job, but a server that is simply not there should fail the step within a minute.
 */
const CONNECT_GRACE_MS = 60_000;

/**
 * Whether the server may have received a failed call (and created a task). A JobError that is not about the
 * transport (the server refused the tool, the arguments, the task) is the server's answer: no task exists.
 */
function callMayHaveArrived(error: unknown): error is JobError {
  return isJobError(error) && (error.code === 'SERVER_UNREACHABLE' || error.code === 'PROTOCOL_ERROR');
}

/** The call may have created a task nobody can name yet: the record stays queued with its session. */
class CallOutcomeUnknown extends JobError {}

/**
 * The call's reply was lost on the way (a reset, a timeout, a garbled reply): the server may have created the task
 * anyway. Where the protocol can list a session's tasks (2025-11-25), look for it there and adopt it, retrying the
 * lookup while the server is unreachable. When the list shows none, the call created none and its error stands.
 */
async function recoverLostReply(
  ctx: CommandContext,
  job: JobRecord,
  target: ServerTarget,
  error: unknown,
): Promise<SubmittedTask> {
  const session = job.callSession;
  if (session === undefined || !callMayHaveArrived(error)) throw error;
  const unknown = (why: string): CallOutcomeUnknown =>
    new CallOutcomeUnknown(
      error.code,
      `${error.message}. ${why}: job ${job.jobId} stays queued with the session the call went over, so a later wait or cancel can still find the task there`,
      { jobId: job.jobId, cause: error, retryable: false },
    );
  ctx.log.warning(
    `${job.jobId}: the reply to ${inert(job.tool)} was lost (${describeError(error)}); looking for the task it may have created`,
  );
  const giveUpAt = ctx.clock.now().getTime() + RECOVERY_GRACE_MS;
  const pause = backoff(undefined, ctx.random);
  for (;;) {
    let tasks: TaskSnapshot[] | undefined;
    let lookupConnection: TaskConnection | undefined;
    try {
      // A connection of its own: the submit's is bounded by the deadline that may be what cut the call short.
      lookupConnection = await ctx.tasks.open(target, session, undefined, Date.now() + LOOKUP_TIMEOUT_MS);
      tasks = await lookupConnection.sessionTasks();
    } catch (lookup) {
      if (!isJobError(lookup, 'SERVER_UNREACHABLE'))
        throw unknown(`Looking for the task failed (${describeError(lookup)})`);
      const now = ctx.clock.now().getTime();
      if (now >= giveUpAt) throw unknown(`The server stayed unreachable while mcp-jobs looked for the task`);
      await ctx.clock.sleep(Math.min(pause.next(), giveUpAt - now));
      continue;
    } finally {
      await lookupConnection?.close();
    }
    if (tasks === undefined) {
      throw unknown(`Protocol ${session.generation} cannot list tasks, so whether the server created one is unknown`);
    }
    const task = tasks.at(-1);
    if (task === undefined) throw error;
    ctx.log.info(`${job.jobId}: found task ${inert(task.taskId)} in the session the call was sent over`);
    return { remote: { ...session, taskId: task.taskId }, task };
  }
}

/**
 * What the task snapshot at creation means for the record. A task that already ended is recorded as running: its
 * result (or error) is not in the snapshot, and wait collects it from the server.
 */
function unfinished(task: TaskSnapshot): JobChange {
  const change = changeFromSnapshot(task);
  if (!isTerminal(change.status)) return change;
  const { remoteStatus: _ended, ...rest } = change;
  return { ...rest, status: 'running' };
}

/**
 * Connects for the tool call, retrying an unreachable server (with backoff, one warning) until the deadline or
 * CONNECT_GRACE_MS, whichever comes first. Any other error, or the last unreachable one, is thrown.
 */
async function connectRetrying(ctx: CommandContext, req: SubmitRequest, jobId: string): Promise<TaskConnection> {
  const graceEnd = ctx.clock.now().getTime() + CONNECT_GRACE_MS;
  const giveUpAt = Math.min(graceEnd, req.deadline?.getTime() ?? graceEnd);
  const pause = backoff(undefined, ctx.random);
  let warned = false;
  let first: JobError | undefined;
  for (;;) {
    try {
      const connection = await ctx.tasks.open(req.server, undefined, req.interrupt, req.deadline?.getTime());
      if (warned) ctx.log.info(`${jobId}: reached the server`);
      return connection;
    } catch (error) {
      const now = ctx.clock.now().getTime();
      if (!isJobError(error, 'SERVER_UNREACHABLE') || req.interrupt?.aborted) throw error;
      if (now >= giveUpAt) {
        // The attempt the deadline cut short says only that; the first failure says why the server was unreachable.
        if (first === undefined) throw error;
        throw new JobError(
          'SERVER_UNREACHABLE',
          `${first.message} (retried until ${new Date(giveUpAt).toISOString()})`,
          {
            cause: first,
            retryable: true,
          },
        );
      }
      first ??= error;
      if (!warned) {
        ctx.log.warning(`${jobId}: ${describeError(error)}; retrying until ${new Date(giveUpAt).toISOString()}`);
        warned = true;
      } else ctx.log.debug(`${jobId}: still unreachable: ${describeError(error)}`);
      await ctx.clock.sleep(Math.min(pause.next(), giveUpAt - now), req.interrupt);
    }
  }
}

export async function submitJob(ctx: CommandContext, req: SubmitRequest): Promise<JobRecord> {
  const keyed = await claimJobKey(ctx, req);
  if (keyed?.adopted !== undefined) return keyed.adopted;
  let job = createRecord({
    jobId: keyed?.jobId,
    ...(req.jobKey === undefined ? {} : { jobKey: req.jobKey }),
    instance: req.instance,
    server: serverSpecOf(req.server),
    tool: req.tool,
    arguments: redactArguments(req.arguments, req.redact),
    redactedArguments: req.redact,
    ...(req.deadline === undefined ? {} : { deadline: req.deadline.toISOString() }),
    ...(req.ttlMs === undefined ? {} : { requestedTtlMs: req.ttlMs }),
    ...(req.github === undefined ? {} : { github: req.github }),
    now: ctx.clock.now(),
  });
  await ctx.store.put(job);
  ctx.log.info(`${job.jobId}: submitting ${req.tool} to ${req.server.url}`);

  let connection: TaskConnection | undefined;
  try {
    connection = await connectRetrying(ctx, req, job.jobId);
    if (req.interrupt?.aborted) throw req.interrupt.reason;
    // Before the call is sent: if its reply never arrives (this step killed, the network gone), a later wait or
    // cancel finds the task the call created through this session instead of taking it for never created.
    const session = connection.session();
    job = (await record(ctx, job, { status: 'queued', callSession: session })).record;
    // The call itself is not aborted on interrupt: once sent, the server may create the task, and only its reply
    // tells us which task to cancel.
    const submitted = await connection
      .submit({
        tool: req.tool,
        arguments: req.arguments,
        job: { instance: job.instance, jobId: job.jobId },
        ...(req.ttlMs === undefined ? {} : { ttlMs: req.ttlMs }),
        progressToken: job.jobId,
      })
      .catch((error: unknown) => recoverLostReply(ctx, job, req.server, error));
    const placement = {
      ...(submitted.kind === undefined ? {} : { kind: submitted.kind }),
      ...(submitted.runner === undefined ? {} : { runner: submitted.runner }),
    };
    if (submitted.outcome !== undefined) {
      // The call ran to its end inside this step (fallback: sync): its outcome is the job's.
      job = (
        await record(ctx, job, { ...changeFromOutcome(submitted.outcome), remote: submitted.remote, ...placement })
      ).record;
      ctx.log.info(statusLine(job));
      return job;
    }
    job = (await record(ctx, job, { ...unfinished(submitted.task), remote: submitted.remote, ...placement })).record;
    ctx.log.info(
      submitted.kind === 'call'
        ? `${statusLine(job)} (a plain tools/call${submitted.runner === undefined ? '' : ` kept open by the job runner, pid ${submitted.runner.pid}`})`
        : `${statusLine(job)} (task ${inert(submitted.task.taskId)}, protocol ${submitted.remote.generation})`,
    );
    if (req.ttlMs !== undefined && submitted.remote.generation === '2026-07-28') {
      ctx.log.warning(
        `task-ttl was not sent: protocol 2026-07-28 has no client TTL; the server keeps task ${inert(submitted.task.taskId)} for ${submitted.task.ttlMs == null ? 'as long as it chooses' : `${submitted.task.ttlMs} ms`}`,
      );
    }
    if (req.interrupt?.aborted) {
      ctx.log.warning(`${job.jobId}: the step is being stopped; cancelling task ${inert(submitted.task.taskId)}`);
      // Bounded: the runner kills the step 10 s after its first signal.
      const after = await connection
        .cancel(submitted.remote, AbortSignal.timeout(CANCEL_GRACE_MS))
        .catch((error: unknown) => {
          ctx.log.warning(
            `${job.jobId}: cancelling task ${inert(submitted.task.taskId)} failed: ${describeError(error)}`,
          );
          return undefined;
        });
      // A task that completed or failed before the cancel reached it is left for wait to collect, with its result.
      if (after !== undefined && after.status !== 'completed' && after.status !== 'failed') {
        const change = changeFromSnapshot(after);
        job = (await record(ctx, job, after.status === 'cancelled' ? { ...change, cancelReason: 'signal' } : change))
          .record;
      }
    }
    return job;
  } catch (error) {
    // Once the server may hold a task, the record must keep pointing at it: never mark such a job failed here.
    // (A call that was sent but whose reply was lost leaves the record queued with its session: wait and cancel
    // look the task up there.)
    if (job.remote !== undefined || error instanceof CallOutcomeUnknown) {
      throw isJobError(error) ? aboutJob(error, job.jobId) : error;
    }
    const interrupted = req.interrupt?.aborted === true;
    const failure = interrupted
      ? new JobError('INTERRUPTED', `The step was stopped before ${req.tool} was submitted`, {
          jobId: job.jobId,
        })
      : error;
    job = (
      await record(ctx, job, {
        status: interrupted ? 'canceled' : 'failed',
        ...(interrupted ? { cancelReason: 'signal' as const } : {}),
        error: {
          code: isJobError(failure) ? failure.code : 'INTERNAL',
          message: describeError(failure),
        },
      })
    ).record;
    // The step reports the failed job (outputs, summary), so the error names it.
    throw isJobError(failure)
      ? new JobError(failure.code, failure.message, {
          jobId: job.jobId,
          retryable: failure.retryable,
          cause: failure.cause,
          ...(failure.input === undefined ? {} : { input: failure.input }),
        })
      : failure;
  } finally {
    await connection?.close();
  }
}
