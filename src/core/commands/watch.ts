/**
 * watch: follow a job to its end as a stream of updates: the record as it stands first, then one update per
 * recorded change (status, status message), ending with the terminal record. It is wait with a listener: the same
 * deadline, cancel-on-timeout and interrupt rules, the same outcome.
 */
import type { JobRecord } from '../record.js';
import { waitJob, type WaitRequest, type WaitResult } from './wait.js';
import { resolveJob, type CommandContext } from './context.js';

export interface JobUpdate {
  record: JobRecord;
  /** `initial`: the record as stored when the watch began; `change`: a recorded change; `end`: the final record. */
  phase: 'initial' | 'change' | 'end';
}

export async function watchJob(
  ctx: CommandContext,
  req: Omit<WaitRequest, 'onChange'>,
  onUpdate: (update: JobUpdate) => void,
): Promise<WaitResult> {
  const job = await resolveJob(ctx, req.instance, req.job);
  onUpdate({ record: job, phase: 'initial' });
  const result = await waitJob(ctx, {
    ...req,
    job: job.jobId,
    onChange: (record) => onUpdate({ record, phase: 'change' }),
  });
  onUpdate({ record: result.record, phase: 'end' });
  return result;
}
