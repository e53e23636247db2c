/** prune: removes ended jobs (completed, failed, canceled) that ended longer ago than `olderThanMs`. */
import type { JobRecord } from '../record.js';
import { isTerminal } from '../status.js';
import type { CommandContext } from './context.js';

export interface PruneRequest {
  instance: string;
  /** Only jobs that ended at least this long ago (default: every ended job). */
  olderThanMs?: number;
  /** Report what would be removed, remove nothing. */
  dryRun?: boolean;
}

export async function pruneJobs(ctx: CommandContext, req: PruneRequest): Promise<JobRecord[]> {
  const cutoff = ctx.clock.now().getTime() - (req.olderThanMs ?? 0);
  const ended = (await ctx.store.list(req.instance)).filter(
    (job) => isTerminal(job.status) && Date.parse(job.finishedAt ?? job.updatedAt) <= cutoff,
  );
  const removed: JobRecord[] = [];
  for (const job of ended) {
    if (req.dryRun === true || (await ctx.store.remove(req.instance, job.jobId))) removed.push(job);
  }
  return removed;
}
