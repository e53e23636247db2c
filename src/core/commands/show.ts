/**
 * show: where a job stands now, without waiting. A terminal record is the answer as it is (the server is not
 * contacted); otherwise one `tasks/get` brings the record up to date. A server that cannot be reached, or that no
 * longer knows the task, does not make show fail: the record is shown as last recorded, with the reason.
 */
import { describeError, isJobError } from '../errors.js';
import type { TaskConnection } from '../ports.js';
import type { JobRecord } from '../record.js';
import { isTerminal, localStatus } from '../status.js';
import { changeFromSnapshot, record, resolveJob, targetOf, type CommandContext } from './context.js';

export interface ShowRequest {
  instance: string;
  /** A job ID or `latest`. */
  job: string;
  headers: Record<string, string>;
  signal?: AbortSignal;
  /** Bounds the one request to the server (epoch ms). */
  deadline?: number;
}

export interface ShowResult {
  record: JobRecord;
  /** True when the server was asked (the record had not ended). */
  contacted: boolean;
  /** Why the server's answer is missing, when it was asked and could not answer (the record is as last stored). */
  stale?: string;
}

export async function showJob(ctx: CommandContext, req: ShowRequest): Promise<ShowResult> {
  const job = await resolveJob(ctx, req.instance, req.job);
  if (isTerminal(job.status) || job.remote === undefined) return { record: job, contacted: false };
  let connection: TaskConnection | undefined;
  try {
    connection = await ctx.tasks.open(targetOf(job, req.headers), job.remote, req.signal, req.deadline);
    const task = await connection.snapshot(job.remote, req.signal);
    // An ended task's result is not in a snapshot: it stays for wait to collect, the record shows the server's word.
    if (isTerminal(localStatus(task.status))) {
      return {
        record: {
          ...job,
          remoteStatus: task.status,
          ...(task.statusMessage === undefined ? {} : { statusMessage: task.statusMessage }),
        },
        contacted: true,
      };
    }
    return { record: (await record(ctx, job, changeFromSnapshot(task))).record, contacted: true };
  } catch (error) {
    if (!isJobError(error) || error.code === 'INTERNAL') throw error;
    ctx.log.warning(`${job.jobId}: showing the job as last recorded: ${describeError(error)}`);
    return { record: job, contacted: true, stale: `${error.code}: ${error.message}` };
  } finally {
    await connection?.close();
  }
}
