import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { applyChange } from '../../src/core/record.js';
import { LocalJobStore } from '../../src/store/local.js';
import { endedJob, queuedJob, rejected, runningJob, T0 } from './fakes.js';

let dir: string;
let store: LocalJobStore;

beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'mcp-jobs-unit-store-'));
  store = new LocalJobStore(dir);
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const minutes = (n: number): Date => new Date(T0.getTime() + n * 60_000);

describe('LocalJobStore', () => {
  it('names its directory in its description', () => {
    expect(store.description).toContain(dir);
  });

  it('reads back exactly what it wrote', async () => {
    const record = endedJob('completed');
    await store.put(record);
    expect(await store.get('default', record.jobId)).toEqual(record);
  });

  it('keeps records under instances/<instance>/jobs/<job-id>.json', async () => {
    const record = runningJob({ instance: 'team-a' });
    await store.put(record);
    const text = await readFile(path.join(dir, 'instances', 'team-a', 'jobs', `${record.jobId}.json`), 'utf8');
    expect(JSON.parse(text)).toEqual(record);
    expect(store.pathOf('team-a', record.jobId)).toBe(
      path.join(dir, 'instances', 'team-a', 'jobs', `${record.jobId}.json`),
    );
  });

  it('replaces a record atomically and leaves no temporary files', async () => {
    let record = runningJob();
    await store.put(record);
    for (let i = 0; i < 5; i++) {
      record = applyChange(record, { status: 'running', statusMessage: `step ${i}` }, minutes(i + 1)).record;
      await store.put(record);
    }
    expect(await readdir(store.jobsDir('default'))).toEqual([`${record.jobId}.json`]);
    expect((await store.get('default', record.jobId))?.statusMessage).toBe('step 4');
  });

  it('writes records readable by the owner only', async () => {
    const record = runningJob();
    await store.put(record);
    const mode = (await stat(store.pathOf('default', record.jobId))).mode & 0o777;
    expect(mode & 0o077).toBe(0);
  });

  it('answers undefined for a job it does not have', async () => {
    expect(await store.get('default', 'job_missing123')).toBeUndefined();
    await store.put(runningJob());
    expect(await store.get('default', 'job_missing123')).toBeUndefined();
  });

  it('lists the jobs of one instance, newest first', async () => {
    const oldest = runningJob({ now: minutes(0) });
    const newest = runningJob({ now: minutes(20) });
    const middle = runningJob({ now: minutes(10) });
    const elsewhere = runningJob({ now: minutes(30), instance: 'other' });
    for (const record of [middle, oldest, elsewhere, newest]) await store.put(record);
    expect((await store.list('default')).map((r) => r.jobId)).toEqual([newest.jobId, middle.jobId, oldest.jobId]);
    expect((await store.list('other')).map((r) => r.jobId)).toEqual([elsewhere.jobId]);
  });

  it('lists nothing for an instance without a directory', async () => {
    expect(await store.list('never-used')).toEqual([]);
  });

  it('ignores files in the jobs directory that are not job records', async () => {
    const record = runningJob();
    await store.put(record);
    const jobs = store.jobsDir('default');
    await writeFile(path.join(jobs, `.${record.jobId}.abc123.tmp`), '{half a rec');
    await writeFile(path.join(jobs, 'notes.txt'), 'hello');
    await writeFile(path.join(jobs, 'README.json'), '{}');
    expect((await store.list('default')).map((r) => r.jobId)).toEqual([record.jobId]);
  });

  it('reports a damaged record as RECORD_INVALID, naming its path', async () => {
    const record = runningJob();
    await store.put(record);
    const file = store.pathOf('default', record.jobId);
    await writeFile(file, '{"schemaVersion": 1, "jobId": ');
    const error = await rejected(store.get('default', record.jobId));
    expect(error.code).toBe('RECORD_INVALID');
    expect(error.path).toBe(file);
    expect(error.message).toContain(file);
    expect((await rejected(store.list('default'))).code).toBe('RECORD_INVALID');
  });

  it('refuses a record whose job ID does not match its file name', async () => {
    const real = runningJob();
    const other = queuedJob();
    await store.put(real);
    await mkdir(store.jobsDir('default'), { recursive: true });
    const file = store.pathOf('default', other.jobId);
    await writeFile(file, JSON.stringify(real));
    const error = await rejected(store.get('default', other.jobId));
    expect(error.code).toBe('RECORD_INVALID');
    expect(error.path).toBe(file);
    expect(error.message).toContain(real.jobId);
  });

  it('refuses a record of another instance copied into this one', async () => {
    const record = runningJob({ instance: 'team-a' });
    await mkdir(store.jobsDir('team-b'), { recursive: true });
    await writeFile(store.pathOf('team-b', record.jobId), JSON.stringify(record));
    const error = await rejected(store.get('team-b', record.jobId));
    expect(error.code).toBe('RECORD_INVALID');
    expect(error.message).toContain('team-a');
  });

  it('reports a directory it cannot write as STORE_UNAVAILABLE, naming the path', async () => {
    const blocked = path.join(dir, 'blocked');
    await writeFile(blocked, 'a file where the store directory should be');
    const broken = new LocalJobStore(blocked);
    const record = runningJob();
    const error = await rejected(broken.put(record));
    expect(error.code).toBe('STORE_UNAVAILABLE');
    expect(error.message).toContain(blocked);
    expect((await rejected(broken.list('default'))).code).toBe('STORE_UNAVAILABLE');
  });
});
