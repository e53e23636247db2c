/**
 * The job store steps use: the local file is the write-ahead copy, a shared store (cache or artifacts) carries the
 * record to other jobs. Every change is written locally first; status changes (not every status message) then go to
 * the shared store. When the shared store fails, the step goes on with the local record and says so once.
 */
import { describeError, isJobError, JobError } from '../core/errors.js';
import type { JobStore, Log } from '../core/ports.js';
import { mergeRecords, type JobRecord } from '../core/record.js';
import { isTerminal } from '../core/status.js';
import type { LocalJobStore } from './local.js';
import type { SharedJobStore } from './shared.js';

export class LayeredJobStore implements JobStore {
  /** Jobs this process created: it makes them findable by `latest` and `job-key` once they are shared. */
  private readonly created = new Set<string>();
  /** What was last shared of each job, so a bare status-message change is not shared again. */
  private readonly shared = new Map<string, string>();
  private disabled = false;

  constructor(
    private readonly local: LocalJobStore,
    private readonly remote: SharedJobStore | undefined,
    private readonly log: Log,
  ) {}

  get description(): string {
    return this.remote === undefined
      ? this.local.description
      : `${this.local.description} and ${this.remote.description}`;
  }

  async get(instance: string, jobId: string): Promise<JobRecord | undefined> {
    const local = await this.local.get(instance, jobId);
    if (local !== undefined || this.remote === undefined) return local;
    const remote = await this.readRemote(`reading job ${jobId}`, () => this.remote!.get(instance, jobId));
    if (remote !== undefined) {
      await this.local.put(remote);
      this.shared.set(jobId, signature(remote));
    }
    return remote;
  }

  async put(record: JobRecord): Promise<void> {
    // A concurrent writer (another step's post, a merged shared revision) may have moved the local copy on.
    const current = await this.local.get(record.instance, record.jobId);
    const next = current !== undefined && current.revision >= record.revision ? mergeRecords(record, current) : record;
    await this.local.put(next);
    if (next.status === 'queued') {
      this.created.add(next.jobId);
      return;
    }
    if (this.remote === undefined || this.disabled) return;
    if (this.shared.get(next.jobId) === signature(next)) return;
    try {
      const stored = await this.remote.save(next);
      this.shared.set(next.jobId, signature(stored));
      if (stored !== next) await this.local.put(stored);
      if (this.created.delete(next.jobId)) await this.remote.index(stored);
    } catch (error) {
      if (!isJobError(error, 'STORE_UNAVAILABLE')) throw error;
      this.disabled = true;
      this.log.warning(
        `${this.remote.description} cannot be written (${describeError(error)}); job records stay on this runner only, so other jobs will not see job ${next.jobId}`,
      );
    }
  }

  async latest(instance: string): Promise<JobRecord | undefined> {
    const local = await this.local.latest(instance);
    if (this.remote === undefined) return local;
    const remote = await this.readRemote(`finding the newest job of instance '${instance}'`, () =>
      this.remote!.latest(instance),
    ).catch((error: unknown) => {
      if (local === undefined) throw error;
      return undefined;
    });
    if (remote === undefined) return local;
    if (local === undefined || remote.createdAt > local.createdAt) {
      return (await this.local.get(instance, remote.jobId)) ?? (await this.get(instance, remote.jobId));
    }
    return local;
  }

  async findByKey(instance: string, jobKey: string): Promise<JobRecord | undefined> {
    const local = await this.local.findByKey(instance, jobKey);
    if (local !== undefined || this.remote === undefined || this.disabled) return local;
    try {
      const remote = await this.remote.findByKey(instance, jobKey);
      return remote === undefined
        ? undefined
        : ((await this.local.get(instance, remote.jobId)) ?? this.get(instance, remote.jobId));
    } catch (error) {
      if (!isJobError(error, 'STORE_UNAVAILABLE')) throw error;
      this.log.warning(
        `Cannot look up job-key in ${this.remote.description} (${describeError(error)}); submitting as if it were new`,
      );
      return undefined;
    }
  }

  explainMissing(instance: string, jobId: string): string {
    if (this.remote === undefined) {
      return "only this runner's disk was searched (store: local, or no shared store available): a job submitted in another job needs store: cache or artifact in both";
    }
    return `${this.remote.explainMissing(instance, jobId)}; likely causes: the submit step used store: local or another store, ran on another branch (cache entries are scoped to a branch and the default branch) or in another run (artifacts belong to one run), or its cache entries expired`;
  }

  private async readRemote<T>(doing: string, read: () => Promise<T>): Promise<T> {
    try {
      return await read();
    } catch (error) {
      if (!isJobError(error, 'STORE_UNAVAILABLE')) throw error;
      throw new JobError(
        'STORE_UNAVAILABLE',
        `${this.remote!.description} could not be read while ${doing}: ${describeError(error)}`,
        {
          cause: error,
          retryable: true,
        },
      );
    }
  }
}

function signature(record: JobRecord): string {
  return `${record.status}|${record.remoteStatus ?? ''}|${record.remote?.taskId ?? ''}|${isTerminal(record.status)}`;
}
