/** list: the jobs of an instance, newest first, optionally of one status and at most `limit` of them. */
import type { JobRecord } from '../record.js';
import type { JobStatus } from '../status.js';
import type { CommandContext } from './context.js';

export interface ListRequest {
  instance: string;
  status?: JobStatus;
  limit?: number;
}

export async function listJobs(ctx: CommandContext, req: ListRequest): Promise<JobRecord[]> {
  const all = await ctx.store.list(req.instance);
  const matching = req.status === undefined ? all : all.filter((job) => job.status === req.status);
  return req.limit === undefined ? matching : matching.slice(0, req.limit);
}
