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
    if (this.remote === undefined) return local;
    // An ended local copy is final. One that has not ended may be behind the shared record: another job may have
    // ended the job (a cancel from job C, a wait in job B) or won a revision this copy lost. So it is checked
    // against the shared newest revision, which wins when it is newer or has ended.
    if (local !== undefined && (isTerminal(local.status) || this.disabled)) return local;
    let remote: JobRecord | undefined;
    try {
      remote = await this.readRemote(`reading job ${jobId}`, () => this.remote!.get(instance, jobId));
    } catch (error) {
      if (local === undefined || !isJobError(error, 'STORE_UNAVAILABLE')) throw error;
      this.unavailable(error, `job ${jobId} is read from this runner's copy`);
      return local;
    }
    return remote === undefined ? local : this.adopt(local, remote);
  }

  /** The record to go on with, given this runner's copy and the shared newest revision; kept locally. */
  private async adopt(local: JobRecord | undefined, remote: JobRecord): Promise<JobRecord> {
    let current = remote;
    if (local !== undefined) {
      if (isTerminal(local.status)) return local;
      if (remote.revision > local.revision) current = remote;
      else if (isTerminal(remote.status)) current = mergeRecords(local, remote);
      else return local;
    }
    await this.local.put(current);
    this.shared.set(current.jobId, signature(current));
    return current;
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
      this.unavailable(error, `job records stay on this runner only, so other jobs will not see job ${next.jobId}`);
    }
  }

  /** The shared store failed: say so once, with the cause, and go on with the local records only. */
  private unavailable(error: JobError, consequence: string): void {
    if (this.disabled) return;
    this.disabled = true;
    this.log.warning(`${this.remote!.description} cannot be used (${describeError(error)}); ${consequence}`);
  }

  async latest(instance: string): Promise<JobRecord | undefined> {
    const local = await this.local.latest(instance);
    if (this.remote === undefined || (this.disabled && local !== undefined)) return local;
    let remote: JobRecord | undefined;
    try {
      remote = await this.readRemote(`finding the newest job of instance '${instance}'`, () =>
        this.remote!.latest(instance),
      );
    } catch (error) {
      if (local === undefined || !isJobError(error, 'STORE_UNAVAILABLE')) throw error;
      this.unavailable(error, `'latest' is the newest job on this runner (${local.jobId})`);
      return local;
    }
    if (remote === undefined) return local === undefined ? undefined : this.get(instance, local.jobId);
    if (local === undefined || remote.createdAt > local.createdAt) {
      return this.adopt(await this.local.get(instance, remote.jobId), remote);
    }
    return this.get(instance, local.jobId);
  }

  async findByKey(instance: string, jobKey: string): Promise<JobRecord | undefined> {
    const local = await this.local.findByKey(instance, jobKey);
    if (local !== undefined) return this.get(instance, local.jobId);
    if (this.remote === undefined || this.disabled) return undefined;
    try {
      const remote = await this.remote.findByKey(instance, jobKey);
      return remote === undefined ? undefined : this.adopt(await this.local.get(instance, remote.jobId), remote);
    } catch (error) {
      if (!isJobError(error, 'STORE_UNAVAILABLE')) throw error;
      this.unavailable(
        error,
        `job-key '${jobKey}' cannot be checked against other jobs' submits: submitting as if it were new`,
      );
      return undefined;
    }
  }

  explainMissing(instance: string, jobId: string): string {
    if (this.remote === undefined) {
      return "only this runner's disk was searched (store: local, or no shared store available): a job submitted in another job needs store: cache or artifact in both";
    }
    // The first cause is the one this store can produce itself: a submit whose shared write failed (it warned).
    return `${this.remote.explainMissing(instance, jobId)}; likely causes: the submitting job could not write to ${this.remote.description} (its log then has a warning that ${this.remote.description} cannot be used), the submit step used store: local or another store, ran on another branch (cache entries are scoped to a branch and the default branch) or in another run (artifacts belong to one run), or its cache entries expired`;
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
