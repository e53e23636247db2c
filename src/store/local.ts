/**
 * Job records as files on the runner's disk: `<dir>/instances/<instance>/jobs/<job-id>.json`. Each write goes to a
 * temporary file that is flushed and renamed over the record, so a reader never sees half a record and a killed
 * step never leaves one damaged. Every write is made holding the record's lock file (`.<job-id>.lock` beside it):
 * steps of a job are separate processes sharing this directory, and a change applied to a stale copy would undo
 * theirs.
 *
 * Beside the records: large results (`results/<job-id>.json`, the file steps report as `result-file`) and the
 * claims of `job-key` turns (`keys/<digest>.<turn>.claim`, made with an exclusive create).
 */
import { crypto } from '../core/lazy-crypto.js';
import { link, mkdir, readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { isJobError, JobError } from '../core/errors.js';
import { isJobId } from '../core/parse.js';
import type { JobStore, KeyClaim, Log } from '../core/ports.js';
import { mergeRecords, parseRecord, SCHEMA_VERSION, type JobRecord } from '../core/record.js';
import { replaceFile, tempBeside, writeOwnerOnly } from './files.js';
import { DEFAULT_LOCK_OPTIONS, withFileLock, type LockOptions } from './lock.js';
import { externalize, readResult } from './results.js';

export interface LocalStoreOptions {
  /** Where a damaged record skipped by `latest` or a `job-key` lookup is reported. */
  log?: Log;
  lock?: Partial<LockOptions>;
}

const pad = (n: number): string => String(n).padStart(6, '0');
/** How long a submit waits for another's job-key claim on this runner (which may wait for the shared store). */
const KEY_LOCK_TIMEOUT_MS = 60_000;

export class LocalJobStore implements JobStore {
  readonly description: string;
  private readonly lockOptions: LockOptions;

  constructor(
    private readonly dir: string,
    private readonly options: LocalStoreOptions = {},
  ) {
    this.description = `the local job store at ${dir}`;
    this.lockOptions = { ...DEFAULT_LOCK_OPTIONS, ...options.lock };
  }

  jobsDir(instance: string): string {
    return join(this.dir, 'instances', instance, 'jobs');
  }

  pathOf(instance: string, jobId: string): string {
    return join(this.jobsDir(instance), `${jobId}.json`);
  }

  /** The lock file guarding a record. */
  lockOf(instance: string, jobId: string): string {
    return join(this.jobsDir(instance), `.${jobId}.lock`);
  }

  /** Where a large result is kept: the same file steps report as `result-file`. */
  resultPathOf(instance: string, jobId: string): string {
    return join(this.dir, 'instances', instance, 'results', `${jobId}.json`);
  }

  keysDir(instance: string): string {
    return join(this.dir, 'instances', instance, 'keys');
  }

  async get(instance: string, jobId: string): Promise<JobRecord | undefined> {
    // Job IDs become file names: anything else is not a job of this store.
    if (!isJobId(jobId)) return undefined;
    const path = this.pathOf(instance, jobId);
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw this.unavailable(`reading ${path}`, error);
    }
    const record = parseRecord(text, path);
    if (record.jobId !== jobId || record.instance !== instance) {
      throw new JobError(
        'RECORD_INVALID',
        `Job record ${path} holds job ${record.jobId} of instance '${record.instance}', not ${jobId}`,
        {
          path,
        },
      );
    }
    return record;
  }

  async put(record: JobRecord): Promise<void> {
    await this.locked(record.instance, record.jobId, () => this.write(record));
  }

  async update(
    instance: string,
    jobId: string,
    mutate: (current: JobRecord) => JobRecord | undefined,
  ): Promise<JobRecord | undefined> {
    if (!isJobId(jobId)) return undefined;
    return this.locked(instance, jobId, async () => {
      const current = await this.get(instance, jobId);
      if (current === undefined) return undefined;
      const next = mutate(current);
      return next === undefined ? current : this.write(next);
    });
  }

  /**
   * Keeps a version of a job that was written elsewhere (the shared store's newest revision, say), reconciled with
   * what is stored: a stored version at the same or a later revision is merged with it (an ended job stays ended).
   * Returns what is stored afterwards.
   */
  async reconcile(record: JobRecord): Promise<JobRecord> {
    return this.locked(record.instance, record.jobId, async () => {
      const current = await this.get(record.instance, record.jobId);
      if (current !== undefined && current.revision >= record.revision) {
        if (current.revision === record.revision && sameContent(current, record)) return current;
        return this.write(mergeRecords(record, current));
      }
      return this.write(record);
    });
  }

  private locked<T>(instance: string, jobId: string, fn: () => Promise<T>): Promise<T> {
    return withFileLock(this.lockOf(instance, jobId), this.lockOptions, fn);
  }

  /** Writes a record (holding its lock): a large result to its result file first. Returns what was stored. */
  private async write(record: JobRecord): Promise<JobRecord> {
    const large = externalize(record);
    if (large !== undefined) await this.writeFile(this.resultPathOf(record.instance, record.jobId), large.text);
    const stored = large?.record ?? record;
    await this.writeFile(this.pathOf(record.instance, record.jobId), `${JSON.stringify(stored, null, 2)}\n`);
    return stored;
  }

  /** Atomically: a flushed temporary file, readable by the owner only, renamed over `path`. */
  private async writeFile(path: string, content: string): Promise<void> {
    try {
      await mkdir(join(path, '..'), { recursive: true });
      await replaceFile(path, content);
    } catch (error) {
      throw this.unavailable(`writing ${path}`, error);
    }
  }

  async result(record: JobRecord): Promise<unknown> {
    if (record.resultRef === undefined) return record.result;
    const path = this.resultPathOf(record.instance, record.jobId);
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw this.unavailable(`reading ${path}`, error);
      throw new JobError(
        'RECORD_INVALID',
        `The result of job ${record.jobId} (${record.resultRef.bytes} bytes) should be in ${path}, which does not exist`,
        { path, jobId: record.jobId },
      );
    }
    return readResult(text, record, path);
  }

  async latest(instance: string): Promise<JobRecord | undefined> {
    return (await this.list(instance))[0];
  }

  async findByKey(instance: string, jobKey: string): Promise<JobRecord | undefined> {
    return (await this.list(instance)).find((record) => record.jobKey === jobKey);
  }

  /**
   * Every readable record of an instance, newest first by creation time. A damaged record, or one of a newer schema,
   * is skipped with a warning naming its file: one bad job must not hide the others (asking for it by ID still
   * fails, with the reason).
   */
  async list(instance: string): Promise<JobRecord[]> {
    const dir = this.jobsDir(instance);
    let names: string[];
    try {
      names = await readdir(dir);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw this.unavailable(`listing ${dir}`, error);
    }
    const records: JobRecord[] = [];
    const ids = names
      .map((name) => (name.endsWith('.json') ? name.slice(0, -'.json'.length) : ''))
      .filter((jobId) => isJobId(jobId));
    // Read concurrently: one record after the other, a thousand of them wait on the disk a thousand times.
    const read = await Promise.all(
      ids.map((jobId) =>
        this.get(instance, jobId).catch((error: unknown) => {
          if (!isJobError(error, 'RECORD_INVALID')) throw error;
          this.options.log?.warning(`Skipping job record ${join(dir, `${jobId}.json`)}: ${error.message}`);
          return undefined;
        }),
      ),
    );
    for (const record of read) if (record !== undefined) records.push(record);
    // Newest first; the ID breaks ties between jobs created in the same millisecond.
    return records.sort((a, b) => b.createdAt.localeCompare(a.createdAt) || b.jobId.localeCompare(a.jobId));
  }

  async remove(instance: string, jobId: string): Promise<boolean> {
    if (!isJobId(jobId)) return false;
    const path = this.pathOf(instance, jobId);
    return this.locked(instance, jobId, async () => {
      try {
        await rm(this.resultPathOf(instance, jobId), { force: true });
        await rm(path);
        return true;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
        throw this.unavailable(`removing ${path}`, error);
      }
    }).finally(() => rm(this.lockOf(instance, jobId), { force: true }).catch(() => undefined));
  }

  private claimPath(instance: string, jobKey: string, seq: number): string {
    return join(this.keysDir(instance), `${keyDigest(jobKey)}.${pad(seq)}.claim`);
  }

  async claimKey(instance: string, jobKey: string, seq: number, jobId: string): Promise<string | undefined> {
    return this.writeClaim(instance, jobKey, seq, jobId);
  }

  /**
   * Claims a turn with an exclusive create: the claim is written in full to a temporary file and hard-linked to its
   * name, which fails when the name exists, so a reader never sees a half-written claim. `jobId` undefined records a
   * turn whose winner cannot be known (a shared claim that cannot be read). Returns the winner.
   */
  async writeClaim(
    instance: string,
    jobKey: string,
    seq: number,
    jobId: string | undefined,
  ): Promise<string | undefined> {
    const path = this.claimPath(instance, jobKey, seq);
    const temp = tempBeside(path);
    const claim = {
      schemaVersion: SCHEMA_VERSION,
      jobKey,
      jobKeyTurn: seq,
      jobId: jobId ?? null,
      at: new Date().toISOString(),
    };
    const content = `${JSON.stringify(claim)}\n`;
    try {
      await mkdir(this.keysDir(instance), { recursive: true });
      await writeOwnerOnly(temp, content, { exclusive: true, sync: true });
    } catch (error) {
      await rm(temp, { force: true }).catch(() => undefined);
      throw this.unavailable(`writing ${temp}`, error);
    }
    try {
      await link(temp, path);
      return jobId;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw this.unavailable(`claiming ${path}`, error);
      return (await this.readClaim(instance, jobKey, seq))?.jobId;
    } finally {
      await rm(temp, { force: true }).catch(() => undefined);
    }
  }

  /** The claim of one turn, if it was made here. */
  async readClaim(instance: string, jobKey: string, seq: number): Promise<KeyClaim | undefined> {
    const path = this.claimPath(instance, jobKey, seq);
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw this.unavailable(`reading ${path}`, error);
    }
    let jobId: unknown;
    try {
      jobId = (JSON.parse(text) as { jobId?: unknown }).jobId;
    } catch {
      jobId = undefined;
    }
    if (typeof jobId === 'string' && isJobId(jobId)) return { seq, jobId };
    if (jobId !== null) this.options.log?.warning(`Job-key claim ${path} is damaged; its turn is skipped`);
    return { seq, jobId: undefined };
  }

  async lastClaim(instance: string, jobKey: string): Promise<KeyClaim | undefined> {
    const dir = this.keysDir(instance);
    let names: string[];
    try {
      names = await readdir(dir);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw this.unavailable(`listing ${dir}`, error);
    }
    const prefix = `${keyDigest(jobKey)}.`;
    const turns = names
      .filter((name) => name.startsWith(prefix) && name.endsWith('.claim'))
      .map((name) => Number(name.slice(prefix.length, -'.claim'.length)))
      .filter((seq) => Number.isInteger(seq) && seq > 0);
    if (turns.length === 0) return undefined;
    return this.readClaim(instance, jobKey, Math.max(...turns));
  }

  /**
   * Runs `fn` holding the lock of a `job-key` (the layered store claims a shared turn and mirrors it under it). It is
   * held across calls to the shared store, so it is waited for longer than a record's; a holder broken as stale
   * costs nothing but a second shared claim of the same turn, which names the same winner.
   */
  withKeyLock<T>(instance: string, jobKey: string, fn: () => Promise<T>): Promise<T> {
    const options = { ...this.lockOptions, timeoutMs: Math.max(this.lockOptions.timeoutMs, KEY_LOCK_TIMEOUT_MS) };
    return withFileLock(join(this.keysDir(instance), `.${keyDigest(jobKey)}.lock`), options, fn);
  }

  private unavailable(doing: string, error: unknown): JobError {
    if (isJobError(error)) return error;
    return new JobError('STORE_UNAVAILABLE', `The local job store failed ${doing}: ${(error as Error).message}`, {
      cause: error,
      retryable: false,
    });
  }
}

/** A `job-key` as a name: keys are free text (up to 256 characters). */
export function keyDigest(jobKey: string): string {
  return crypto().createHash('sha256').update(jobKey).digest('hex').slice(0, 24);
}

function sameContent(a: JobRecord, b: JobRecord): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}
