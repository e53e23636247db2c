/**
 * Job records in a store shared by the jobs of a workflow (Actions cache or artifacts). Both are write-once, so each
 * revision of a record is its own blob, `mcp-jobs~<instance>~<job-id>~r<revision>`, and a read takes the newest.
 * Two writers that take the same revision meet as a conflict: the loser reads the winner's record, reconciles both
 * (`mergeRecords`: an ended job stays ended) and writes the result as the next revision.
 *
 * Job IDs are unique, so a record can be looked up by ID from any run that sees the store. What is ambiguous by
 * nature — `latest`, and the `job-key` of a re-run — is looked up only among this workflow run's jobs, through index
 * blobs whose names carry the run ID: another run on the same branch is never mistaken for this one.
 */
import { createHash } from 'node:crypto';
import { JobError } from '../core/errors.js';
import { mergeRecords, parseRecord, type JobRecord } from '../core/record.js';
import type { RevisionBlobs } from './blobs.js';

const MAX_CONFLICTS = 5;
/** How long a writer that lost a revision waits for the winner's upload to become readable. */
const CONFLICT_WAIT_MS = 5_000;
const pad = (n: number, width: number): string => String(n).padStart(width, '0');
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export interface SharedStoreOptions {
  conflictWaitMs?: number;
}

export class SharedJobStore {
  private readonly conflictWaitMs: number;

  constructor(
    private readonly blobs: RevisionBlobs,
    private readonly runId: string,
    options: SharedStoreOptions = {},
  ) {
    this.conflictWaitMs = options.conflictWaitMs ?? CONFLICT_WAIT_MS;
  }

  get description(): string {
    return this.blobs.description;
  }

  revisionPrefix(instance: string, jobId: string): string {
    return `mcp-jobs~${instance}~${jobId}~r`;
  }

  private runPrefix(instance: string): string {
    return `mcp-jobs~${instance}~run${this.runId}~`;
  }

  private keyPrefix(instance: string, jobKey: string): string {
    const digest = createHash('sha256').update(jobKey).digest('hex').slice(0, 24);
    return `${this.runPrefix(instance)}key~${digest}~`;
  }

  async get(instance: string, jobId: string): Promise<JobRecord | undefined> {
    const prefix = this.revisionPrefix(instance, jobId);
    let blob = await this.blobs.newest(prefix);
    // The cache answers with the revision finalized last, not the highest: a writer that lost revision N to an
    // upload still in flight goes on to write N+1, and N may land after it. Higher revisions are looked up by name.
    if (blob !== undefined && this.blobs.newestIsLastWritten === true) {
      let name = blob.name;
      for (;;) {
        const higher = await this.blobs.newestName(`${prefix}${pad(Number(name.slice(prefix.length)) + 1, 6)}`);
        if (higher === undefined) break;
        name = higher;
      }
      if (name !== blob.name) blob = await this.blobs.newest(name);
    }
    if (blob === undefined) return undefined;
    const record = parseRecord(blob.content, `${blob.name} in ${this.blobs.description}`);
    if (record.jobId !== jobId || record.instance !== instance) {
      throw new JobError(
        'RECORD_INVALID',
        `${blob.name} in ${this.blobs.description} holds job ${record.jobId}, not ${jobId}`,
      );
    }
    return record;
  }

  /** Writes the record as a new revision and returns what is now stored: the record, or its reconciliation. */
  async save(record: JobRecord): Promise<JobRecord> {
    let candidate = record;
    for (let attempt = 0; attempt < MAX_CONFLICTS; attempt++) {
      const name = `${this.revisionPrefix(candidate.instance, candidate.jobId)}${pad(candidate.revision, 6)}`;
      if ((await this.blobs.create(name, JSON.stringify(candidate))) === 'created') return candidate;
      const theirs = await this.revisionAtLeast(candidate.instance, candidate.jobId, candidate.revision);
      candidate = mergeRecords(candidate, theirs ?? candidate);
    }
    throw new JobError(
      'STORE_UNAVAILABLE',
      `${this.blobs.description}: job ${record.jobId} kept meeting concurrent revisions (${MAX_CONFLICTS} in a row); giving up on sharing this change`,
      { retryable: true },
    );
  }

  /**
   * The newest record once it has at least `revision`. A taken name can belong to an upload still in flight (not
   * readable yet): merging with an older revision would drop the winner's change, even an ended job's end. So the
   * winner is waited for a little; a writer that died mid-upload never lands, and then the newest readable wins.
   */
  private async revisionAtLeast(instance: string, jobId: string, revision: number): Promise<JobRecord | undefined> {
    const deadline = Date.now() + this.conflictWaitMs;
    for (let delay = 50; ; delay = Math.min(delay * 2, 1_000)) {
      const theirs = await this.get(instance, jobId);
      const left = deadline - Date.now();
      if ((theirs?.revision ?? 0) >= revision || left <= 0) return theirs;
      await sleep(Math.min(delay, left));
    }
  }

  /** Makes a job this process created findable as this run's `latest` and by its `job-key`. */
  async index(record: JobRecord): Promise<void> {
    const stamp = `${pad(Date.parse(record.createdAt), 13)}~${record.jobId}`;
    const prefixes = [`${this.runPrefix(record.instance)}new~`];
    if (record.jobKey !== undefined) prefixes.push(this.keyPrefix(record.instance, record.jobKey));
    for (const prefix of prefixes) {
      // The cache answers a prefix with the entry written last, not with the greatest name: an entry for an older
      // job written after a newer job's would make the older one `latest` (or the job of its key). A job that is
      // not the newest by creation is therefore not indexed.
      const newest = await this.blobs.newestName(prefix);
      if (newest !== undefined && newest.slice(prefix.length) > stamp) continue;
      await this.blobs.create(`${prefix}${stamp}`, JSON.stringify(record));
    }
  }

  async latest(instance: string): Promise<JobRecord | undefined> {
    return this.fromIndex(instance, `${this.runPrefix(instance)}new~`);
  }

  async findByKey(instance: string, jobKey: string): Promise<JobRecord | undefined> {
    return this.fromIndex(instance, this.keyPrefix(instance, jobKey));
  }

  private async fromIndex(instance: string, prefix: string): Promise<JobRecord | undefined> {
    const name = await this.blobs.newestName(prefix);
    const jobId = name?.slice(name.lastIndexOf('~') + 1);
    return jobId === undefined ? undefined : this.get(instance, jobId);
  }

  /** What a reader should know when a job is not there. */
  explainMissing(instance: string, jobId: string): string {
    return `looked in ${this.blobs.description} for names starting '${this.revisionPrefix(instance, jobId)}'`;
  }
}
