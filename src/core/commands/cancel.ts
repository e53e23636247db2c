/**
 * cancel: ask the server to cancel a job's task, then record the status the server actually holds. A terminal job
 * is left as it is. `tasks/cancel` is always sent, whatever the server's capabilities say (servers that do not
 * declare the capability, like the SDK's own examples, honour it); what the server answers is reported.
 */
import { describeError, isJobError } from '../errors.js';
import type { TaskConnection } from '../ports.js';
import type { JobRecord } from '../record.js';
import { isTerminal } from '../status.js';
import { inert } from '../text.js';
import { record, resolveJob, statusLine, targetOf, type CommandContext } from './context.js';
import { cancelOn } from './wait.js';

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
  /** False when the job had already ended, or never had a task: nothing was sent. */
  sent: boolean;
}

export async function cancelJob(ctx: CommandContext, req: CancelRequest): Promise<CancelResult> {
  const job = await resolveJob(ctx, req.instance, req.job);
  if (isTerminal(job.status)) {
    ctx.log.info(`${job.jobId} already ended ${job.status}; nothing to cancel`);
    return { record: job, sent: false };
  }
  const why = req.reason === undefined || req.reason === '' ? '' : `: ${req.reason}`;
  if (job.remote === undefined && job.callSession === undefined) {
    // Submit never sent the call: there is nothing remote to stop.
    const canceled = (
      await record(ctx, job, {
        status: 'canceled',
        cancelReason: req.cancelReason ?? 'user',
        statusMessage: `Canceled before a task existed${why}`,
      })
    ).record;
    return { record: canceled, sent: false };
  }
  let connection: TaskConnection | undefined;
  try {
    connection = await ctx.tasks.open(targetOf(job, req.headers), job.remote ?? job.callSession, req.signal);
    ctx.log.info(
      `${job.jobId}: cancelling ${job.remote === undefined ? 'the task its submit created' : `task ${inert(job.remote.taskId)}`}${why}`,
    );
    const after = await cancelOn(ctx, job, connection, req.cancelReason ?? 'user', req.signal, req.reason);
    if (after.remote === undefined) return { record: after, sent: false };
    if (after.remoteStatus === 'completed' || after.remoteStatus === 'failed') {
      ctx.log.info(`${after.jobId} had already ended ${after.status} on the server`);
      return { record: after, sent: true };
    }
    ctx.log.info(statusLine(after));
    if (!isTerminal(after.status)) {
      ctx.log.warning(
        `${after.jobId}: the server accepted the cancel request but still reports ${after.remoteStatus ?? after.status}; it may still finish`,
      );
    }
    return { record: after, sent: true };
  } catch (error) {
    if (isJobError(error, 'TASK_LOST')) {
      // The record keeps its status: the server says nothing of the task's end, only that it no longer knows it.
      const current = (await ctx.store.get(job.instance, job.jobId)) ?? job;
      await record(ctx, current, { status: current.status, error: { code: error.code, message: error.message } });
    }
    ctx.log.debug(`${job.jobId}: cancel failed: ${describeError(error)}`);
    throw error;
  } finally {
    await connection?.close();
  }
}
