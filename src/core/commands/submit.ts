/**
 * submit: record the job, start the tool call as a task, record the task. The record is written before the server
 * is contacted, so a step killed mid-submit never leaves a task nobody knows about.
 */
import { describeError, isJobError, JobError } from '../errors.js';
import { redactArguments, type JsonObject } from '../parse.js';
import type { ServerTarget, TaskConnection, TaskSnapshot } from '../ports.js';
import { createRecord, type JobChange, type JobRecord } from '../record.js';
import { isTerminal } from '../status.js';
import { changeFromSnapshot, record, statusLine, type CommandContext } from './context.js';
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

export async function submitJob(ctx: CommandContext, req: SubmitRequest): Promise<JobRecord> {
  const keyed = await claimJobKey(ctx, req);
  if (keyed?.adopted !== undefined) return keyed.adopted;
  let job = createRecord({
    jobId: keyed?.jobId,
    ...(req.jobKey === undefined ? {} : { jobKey: req.jobKey }),
    instance: req.instance,
    serverUrl: req.server.url,
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
    connection = await ctx.tasks.open(req.server, undefined, req.interrupt);
    if (req.interrupt?.aborted) throw req.interrupt.reason;
    // The call itself is not aborted on interrupt: once sent, the server may create the task, and only its reply
    // tells us which task to cancel.
    const submitted = await connection.submit({
      tool: req.tool,
      arguments: req.arguments,
      ...(req.ttlMs === undefined ? {} : { ttlMs: req.ttlMs }),
    });
    job = (await record(ctx, job, { ...unfinished(submitted.task), remote: submitted.remote })).record;
    ctx.log.info(`${statusLine(job)} (task ${submitted.task.taskId}, protocol ${submitted.remote.generation})`);
    if (req.ttlMs !== undefined && submitted.remote.generation === '2026-07-28') {
      ctx.log.warning(
        `task-ttl was not sent: protocol 2026-07-28 has no client TTL; the server keeps task ${submitted.task.taskId} for ${submitted.task.ttlMs == null ? 'as long as it chooses' : `${submitted.task.ttlMs} ms`}`,
      );
    }
    if (req.interrupt?.aborted) {
      ctx.log.warning(`${job.jobId}: the step is being stopped; cancelling task ${submitted.task.taskId}`);
      // Bounded: the runner kills the step 10 s after its first signal.
      const after = await connection
        .cancel(submitted.remote, AbortSignal.timeout(CANCEL_GRACE_MS))
        .catch((error: unknown) => {
          ctx.log.warning(`${job.jobId}: cancelling task ${submitted.task.taskId} failed: ${describeError(error)}`);
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
    // Once the server holds a task, the record must keep pointing at it: never mark such a job failed here.
    if (job.remote !== undefined) throw error;
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
