/**
 * Job records in a store shared by the jobs of a workflow (Actions cache or artifacts). Both are write-once, so each
 * revision of a record is its own blob, `mcp-jobs~<instance>~<job-id>~r<revision>`, and a read takes the newest.
 * Two writers that take the same revision meet as a conflict: the loser reads the winner's record, reconciles both
 * (`mergeRecords`: an ended job stays ended) and writes the result as the next revision.
 *
 * Job IDs are unique, so a record can be looked up by ID from any run that sees the store. What is ambiguous by
 * nature — `latest`, and the `job-key` of a re-run — is looked up only among this workflow run's jobs, through index
 * blobs whose names carry the run ID: another run on the same branch is never mistaken for this one.
 *
 * Beside the revisions: a large result as one write-once blob per job (`…~<job-id>~full-result~<digest>`, the record
 * carries its `resultRef`), and the claims of `job-key` turns (`…~run<id>~claim~<key digest>~<turn>`): a name can be
 * created once, so the first claim of a turn wins and every other writer learns the winner's job ID from it.
 */
import { crypto } from '../core/lazy-crypto.js';
import { JobError } from '../core/errors.js';
import { isJobId } from '../core/parse.js';
import type { KeyClaim } from '../core/ports.js';
import { mergeRecords, parseRecord, SCHEMA_VERSION, type JobRecord } from '../core/record.js';
import type { RevisionBlobs } from './blobs.js';
import { externalize, readResult } from './results.js';

const MAX_CONFLICTS = 5;
/** How long a writer that lost a revision waits for the winner's upload to become readable. */
const CONFLICT_WAIT_MS = 5_000;
const pad = (n: number, width: number): string => String(n).padStart(width, '0');
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export interface SharedStoreOptions {
  conflictWaitMs?: number;
  /** How long the loser of a job-key claim waits for the winner's claim to become readable. */
  claimWaitMs?: number;
}

/**
 * A claim that is taken but never becomes readable names nobody, and the loser claims the next turn: a second job
 * for the key. So the loser waits longer for a claim than for a revision, whose loss a merge repairs.
 */
const CLAIM_WAIT_MS = 15_000;

export class SharedJobStore {
  private readonly conflictWaitMs: number;
  private readonly claimWaitMs: number;
  /** Result blobs this store wrote or found: a result is written once per job, not once per revision. */
  private readonly results = new Set<string>();

  constructor(
    private readonly blobs: RevisionBlobs,
    private readonly runId: string,
    options: SharedStoreOptions = {},
  ) {
    this.conflictWaitMs = options.conflictWaitMs ?? CONFLICT_WAIT_MS;
    this.claimWaitMs = options.claimWaitMs ?? CLAIM_WAIT_MS;
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
    return `${this.runPrefix(instance)}key~${digest(jobKey)}~`;
  }

  private claimPrefix(instance: string, jobKey: string): string {
    return `${this.runPrefix(instance)}claim~${digest(jobKey)}~`;
  }

  /** The blob of a large result. Not under the revision prefix (`…~r`): a revision lookup must never find it. */
  resultName(record: JobRecord): string {
    return `mcp-jobs~${record.instance}~${record.jobId}~full-result~${record.resultRef?.sha256.slice(0, 32) ?? 'none'}`;
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

  /**
   * Writes the record as a new revision and returns what is now stored: the record, or its reconciliation. A large
   * result is written first, as its own blob, and the revision refers to it.
   */
  async save(record: JobRecord): Promise<JobRecord> {
    const large = externalize(record);
    let candidate = large?.record ?? record;
    if (large !== undefined) {
      const name = this.resultName(candidate);
      // Write-once: a blob already there (another writer of the same result) is the same text, by its digest.
      if (!this.results.has(name)) await this.blobs.create(name, large.text);
      this.results.add(name);
    }
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

  /** A job's result: inline, or its result blob checked against the record's `resultRef`. */
  async result(record: JobRecord): Promise<unknown> {
    if (record.resultRef === undefined) return record.result;
    const name = this.resultName(record);
    const blob = await this.blobs.newest(name);
    if (blob === undefined || blob.name !== name) {
      throw new JobError(
        'RECORD_INVALID',
        `The result of job ${record.jobId} (${record.resultRef.bytes} bytes) is not in ${this.blobs.description}: no blob named ${name}`,
        { jobId: record.jobId },
      );
    }
    this.results.add(name);
    return readResult(blob.content, record, `${name} in ${this.blobs.description}`);
  }

  /** Claims turn `seq` of a job-key: see `JobStore.claimKey`. */
  async claimKey(instance: string, jobKey: string, seq: number, jobId: string): Promise<string | undefined> {
    const name = `${this.claimPrefix(instance, jobKey)}${pad(seq, 6)}`;
    const claim = JSON.stringify({
      schemaVersion: SCHEMA_VERSION,
      jobKeyTurn: seq,
      jobId,
      at: new Date().toISOString(),
    });
    if ((await this.blobs.create(name, claim)) === 'created') return jobId;
    // Taken: the winner's claim may still be uploading (not readable yet). One that never lands names nobody.
    const deadline = Date.now() + this.claimWaitMs;
    for (let delay = 50; ; delay = Math.min(delay * 2, 1_000)) {
      const winner = await this.readClaim(name);
      const left = deadline - Date.now();
      if (winner !== undefined || left <= 0) return winner?.jobId;
      await sleep(Math.min(delay, left));
    }
  }

  /** The highest turn of a job-key claimed in this run. */
  async lastClaim(instance: string, jobKey: string): Promise<KeyClaim | undefined> {
    const prefix = this.claimPrefix(instance, jobKey);
    let name = await this.blobs.newestName(prefix);
    if (name === undefined) return undefined;
    // The cache answers with the claim finalized last: a later turn may have landed before an earlier one.
    if (this.blobs.newestIsLastWritten === true) {
      for (;;) {
        const higher = await this.blobs.newestName(`${prefix}${pad(Number(name.slice(prefix.length)) + 1, 6)}`);
        if (higher === undefined) break;
        name = higher;
      }
    }
    const seq = Number(name.slice(prefix.length));
    return (await this.readClaim(name)) ?? { seq, jobId: undefined };
  }

  private async readClaim(name: string): Promise<KeyClaim | undefined> {
    const blob = await this.blobs.newest(name);
    if (blob === undefined || blob.name !== name) return undefined;
    const seq = Number(name.slice(name.lastIndexOf('~') + 1));
    try {
      const jobId = (JSON.parse(blob.content) as { jobId?: unknown }).jobId;
      return { seq, jobId: typeof jobId === 'string' && isJobId(jobId) ? jobId : undefined };
    } catch {
      return { seq, jobId: undefined };
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

function digest(jobKey: string): string {
  return crypto().createHash('sha256').update(jobKey).digest('hex').slice(0, 24);
}
