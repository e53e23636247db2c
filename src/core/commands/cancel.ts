/**
 * cancel: ask the server to cancel a job's task, then record the status the server actually holds. A terminal job
 * is left as it is.
 */
import { JobError } from '../errors.js';
import type { TaskConnection } from '../ports.js';
import type { JobRecord } from '../record.js';
import { isTerminal } from '../status.js';
import { changeFromSnapshot, record, resolveJob, statusLine, type CommandContext } from './context.js';
import { changeFromOutcome } from './wait.js';

export interface CancelRequest {
  instance: string;
  job: string;
  headers: Record<string, string>;
  /** Why, in the user's words; logged and kept in the job's history. */
  reason?: string;
  /** Recorded as the cancel reason: `user` for the cancel step, `signal` for a post step cleaning up. */
  cancelReason?: 'user' | 'signal';
  signal?: AbortSignal;
}

export interface CancelResult {
  record: JobRecord;
  /** False when the job had already ended: nothing was sent. */
  sent: boolean;
}

export async function cancelJob(ctx: CommandContext, req: CancelRequest): Promise<CancelResult> {
  let job = await resolveJob(ctx, req.instance, req.job);
  if (isTerminal(job.status)) {
    ctx.log.info(`${job.jobId} already ended ${job.status}; nothing to cancel`);
    return { record: job, sent: false };
  }
  const why = req.reason === undefined || req.reason === '' ? '' : `: ${req.reason}`;
  const remote = job.remote;
  if (remote === undefined) {
    // Submit never got a task from the server: there is nothing remote to stop.
    job = (
      await record(ctx, job, {
        status: 'canceled',
        cancelReason: req.cancelReason ?? 'user',
        statusMessage: `Canceled before a task existed${why}`,
      })
    ).record;
    return { record: job, sent: false };
  }
  let connection: TaskConnection | undefined;
  try {
    connection = await ctx.tasks.open({ url: job.server.url, headers: req.headers }, remote, req.signal);
    ctx.log.info(`${job.jobId}: cancelling task ${remote.taskId}${why}`);
    const after = await connection.cancel(remote, req.signal);
    if (after.status === 'completed' || after.status === 'failed') {
      const outcome = await connection.watch(remote, {
        signal: req.signal ?? new AbortController().signal,
        onStatus: () => undefined,
      });
      job = (await record(ctx, job, changeFromOutcome(outcome))).record;
      ctx.log.info(`${job.jobId} had already ended ${job.status} on the server`);
      return { record: job, sent: true };
    }
    const change = changeFromSnapshot(after);
    if (change.status === 'canceled') {
      change.cancelReason = req.cancelReason ?? 'user';
      if (req.reason) change.statusMessage = `Canceled: ${req.reason}`;
    }
    job = (await record(ctx, job, change)).record;
    ctx.log.info(statusLine(job));
    if (!isTerminal(job.status)) {
      ctx.log.warning(
        `${job.jobId}: the server accepted the cancel request but still reports ${after.status}; it may still finish`,
      );
    }
    return { record: job, sent: true };
  } catch (error) {
    if (error instanceof JobError && error.code === 'TASK_LOST') {
      await record(ctx, job, { status: 'failed', error: { code: error.code, message: error.message } });
    }
    throw error;
  } finally {
    await connection?.close();
  }
}
