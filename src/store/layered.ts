/**
 * The job store steps use: the local file is the write-ahead copy, a shared store (cache or artifacts) carries the
 * record to other jobs. Every change is written locally first; status changes (not every status message) then go to
 * the shared store. When the shared store fails, the step goes on with the local record and says so once.
 *
 * A change is made to the local record holding its lock (`update`), then shared outside the lock: the shared store is
 * slow, and its own conflicts are reconciled by revision (see SharedJobStore). `job-key` turns are claimed in the
 * shared store when there is one (it spans the jobs of the run) and mirrored locally, under the key's local lock.
 */
import { describeError, isJobError, JobError } from '../core/errors.js';
import type { JobStore, KeyClaim, Log } from '../core/ports.js';
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
    const kept = await this.local.reconcile(current);
    this.shared.set(kept.jobId, signature(kept));
    return kept;
  }

  async put(record: JobRecord): Promise<void> {
    // A concurrent writer (another step's post, a merged shared revision) may have moved the local copy on.
    await this.share(await this.local.reconcile(record));
  }

  async update(
    instance: string,
    jobId: string,
    mutate: (current: JobRecord) => JobRecord | undefined,
  ): Promise<JobRecord | undefined> {
    let wrote = false;
    const stored = await this.local.update(instance, jobId, (current) => {
      const next = mutate(current);
      wrote = next !== undefined;
      return next;
    });
    return stored === undefined || !wrote ? stored : this.share(stored);
  }

  /** Shares a record just written locally (status changes only); returns what is then stored locally. */
  private async share(next: JobRecord): Promise<JobRecord> {
    if (next.status === 'queued') {
      this.created.add(next.jobId);
      return next;
    }
    if (this.remote === undefined || this.disabled) return next;
    if (this.shared.get(next.jobId) === signature(next)) return next;
    try {
      const stored = await this.remote.save(await this.withLocalResult(next));
      this.shared.set(next.jobId, signature(stored));
      if (this.created.delete(next.jobId)) await this.remote.index(stored);
      // The shared store reconciled it with a concurrent revision: keep that here too.
      return stored.revision === next.revision ? next : await this.local.reconcile(stored);
    } catch (error) {
      if (!isJobError(error, 'STORE_UNAVAILABLE')) throw error;
      this.unavailable(error, `job records stay on this runner only, so other jobs will not see job ${next.jobId}`);
      return next;
    }
  }

  /**
   * The record with its large result read back from this runner, so the shared store can keep a copy. A record that
   * came from the shared store (no local result file) is shared as it is: its result blob is already there.
   */
  private async withLocalResult(record: JobRecord): Promise<JobRecord> {
    if (record.resultRef === undefined) return record;
    try {
      const { resultRef: _ref, ...rest } = record;
      return { ...rest, result: await this.local.result(record) };
    } catch (error) {
      if (!isJobError(error, 'RECORD_INVALID')) throw error;
      return record;
    }
  }

  async result(record: JobRecord): Promise<unknown> {
    if (record.resultRef === undefined) return record.result;
    try {
      return await this.local.result(record);
    } catch (error) {
      if (this.remote === undefined || !isJobError(error, 'RECORD_INVALID')) throw error;
    }
    // Written by another job: its result file is on that runner; the result blob is in the shared store.
    return this.readRemote(`reading the result of job ${record.jobId}`, () => this.remote!.result(record));
  }

  /**
   * Claims a job-key turn. Holding the key's local lock, so the steps of this runner agree: a turn already claimed
   * here has its winner; otherwise the shared store (when there is one) decides and the winner is mirrored locally.
   */
  async claimKey(instance: string, jobKey: string, seq: number, jobId: string): Promise<string | undefined> {
    return this.local.withKeyLock(instance, jobKey, async () => {
      const here = await this.local.readClaim(instance, jobKey, seq);
      if (here !== undefined) return here.jobId;
      if (this.remote !== undefined && !this.disabled) {
        try {
          const winner = await this.remote.claimKey(instance, jobKey, seq, jobId);
          return await this.local.writeClaim(instance, jobKey, seq, winner);
        } catch (error) {
          if (!isJobError(error, 'STORE_UNAVAILABLE')) throw error;
          this.unavailable(
            error,
            `job-key '${jobKey}' is claimed on this runner only: a submit in another job with the same key is not seen`,
          );
        }
      }
      return this.local.writeClaim(instance, jobKey, seq, jobId);
    });
  }

  async lastClaim(instance: string, jobKey: string): Promise<KeyClaim | undefined> {
    const local = await this.local.lastClaim(instance, jobKey);
    if (this.remote === undefined || this.disabled) return local;
    let remote: KeyClaim | undefined;
    try {
      remote = await this.remote.lastClaim(instance, jobKey);
    } catch (error) {
      if (!isJobError(error, 'STORE_UNAVAILABLE')) throw error;
      this.unavailable(error, `job-key '${jobKey}' is looked up on this runner only`);
      return local;
    }
    // The shared store spans the run's jobs: on the same turn, its winner is the one.
    if (remote === undefined) return local;
    return local !== undefined && local.seq > remote.seq ? local : remote;
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

  /**
   * The jobs on this runner's disk (the shared stores are write-once and cannot be enumerated), each brought up to
   * date with the shared store when it has not ended there (see `get`).
   */
  async list(instance: string): Promise<JobRecord[]> {
    const local = await this.local.list(instance);
    if (this.remote === undefined || this.disabled) return local;
    const out: JobRecord[] = [];
    for (const job of local) out.push(isTerminal(job.status) ? job : ((await this.get(instance, job.jobId)) ?? job));
    return out;
  }

  /** Removes this runner's copy; shared revisions are write-once and expire with the cache or the artifacts. */
  async remove(instance: string, jobId: string): Promise<boolean> {
    this.shared.delete(jobId);
    this.created.delete(jobId);
    return this.local.remove(instance, jobId);
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
