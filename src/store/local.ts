/**
 * Job records as files on the runner's disk: `<dir>/instances/<instance>/jobs/<job-id>.json`. Each write goes to a
 * temporary file that is flushed and renamed over the record, so a reader never sees half a record and a killed
 * step never leaves one damaged.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, open, readdir, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { JobError } from '../core/errors.js';
import { isJobId } from '../core/parse.js';
import type { JobStore } from '../core/ports.js';
import { parseRecord, type JobRecord } from '../core/record.js';

export class LocalJobStore implements JobStore {
  readonly description: string;

  constructor(private readonly dir: string) {
    this.description = `the local job store at ${dir}`;
  }

  jobsDir(instance: string): string {
    return join(this.dir, 'instances', instance, 'jobs');
  }

  pathOf(instance: string, jobId: string): string {
    return join(this.jobsDir(instance), `${jobId}.json`);
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
    const dir = this.jobsDir(record.instance);
    const path = this.pathOf(record.instance, record.jobId);
    const temp = join(dir, `.${record.jobId}.${randomBytes(6).toString('hex')}.tmp`);
    try {
      await mkdir(dir, { recursive: true });
      const file = await open(temp, 'w', 0o600);
      try {
        await file.writeFile(`${JSON.stringify(record, null, 2)}\n`, 'utf8');
        await file.sync();
      } finally {
        await file.close();
      }
      await rename(temp, path);
    } catch (error) {
      await rm(temp, { force: true }).catch(() => undefined);
      throw this.unavailable(`writing ${path}`, error);
    }
  }

  async latest(instance: string): Promise<JobRecord | undefined> {
    return (await this.list(instance))[0];
  }

  async findByKey(instance: string, jobKey: string): Promise<JobRecord | undefined> {
    return (await this.list(instance)).find((record) => record.jobKey === jobKey);
  }

  /** Every record of an instance, newest first by creation time. */
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
    for (const name of names) {
      const jobId = name.endsWith('.json') ? name.slice(0, -'.json'.length) : '';
      if (!isJobId(jobId)) continue;
      const record = await this.get(instance, jobId);
      if (record !== undefined) records.push(record);
    }
    // Newest first; the ID breaks ties between jobs created in the same millisecond.
    return records.sort((a, b) => b.createdAt.localeCompare(a.createdAt) || b.jobId.localeCompare(a.jobId));
  }

  private unavailable(doing: string, error: unknown): JobError {
    return new JobError('STORE_UNAVAILABLE', `The local job store failed ${doing}: ${(error as Error).message}`, {
      cause: error,
      retryable: false,
    });
  }
}
