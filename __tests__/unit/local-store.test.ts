import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { record } from '../../src/core/commands/context.js';
import type { JobChange } from '../../src/core/record.js';
import { applyChange, RESULT_INLINE_LIMIT_BYTES, type JobRecord } from '../../src/core/record.js';
import { LocalJobStore } from '../../src/store/local.js';
import {
  endedJob,
  FakeClock,
  FakeConnection,
  FakeLog,
  FakeTaskClient,
  queuedJob,
  rejected,
  runningJob,
  T0,
} from './fakes.js';

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

/** A context over `store` for `record()` (no server is contacted). */
function ctxOf(store: LocalJobStore, clock = new FakeClock()) {
  return { store, tasks: new FakeTaskClient(new FakeConnection()), clock, log: new FakeLog() };
}

/** A pid no process has any more: a node process that started and exited. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  return Number(child.stdout);
}

describe('LocalJobStore.update', () => {
  it('changes the record as stored, not the caller copy', async () => {
    const first = runningJob();
    await store.put(first);
    await store.put(applyChange(first, { status: 'running', statusMessage: 'from another step' }, minutes(1)).record);
    const stored = await store.update('default', first.jobId, (current) => {
      expect(current.statusMessage).toBe('from another step');
      return applyChange(current, { status: 'input_required', remoteStatus: 'input_required' }, minutes(2)).record;
    });
    // Revision 4: applied to the stored revision 3, not to the caller's revision 2. (The new status came without a
    // message, so the earlier status's message is not carried over.)
    expect(stored).toMatchObject({ status: 'input_required', remoteStatus: 'input_required', revision: 4 });
    expect(stored?.statusMessage).toBeUndefined();
    expect(await store.get('default', first.jobId)).toEqual(stored);
  });

  it('writes nothing when the change answers undefined, and answers undefined for a job it does not have', async () => {
    const job = runningJob();
    await store.put(job);
    const before = await stat(store.pathOf('default', job.jobId));
    expect(await store.update('default', job.jobId, () => undefined)).toEqual(job);
    expect((await stat(store.pathOf('default', job.jobId))).mtimeMs).toBe(before.mtimeMs);
    let called = false;
    const missing = await store.update('default', 'job_missing12345678', () => {
      called = true;
      return job;
    });
    expect(missing).toBeUndefined();
    expect(called).toBe(false);
  });

  it('record() keeps a job another step ended ended, and says the change was refused', async () => {
    const job = runningJob();
    await store.put(job);
    // Another process ends the job; this step still holds its running copy.
    const other = { ...endedJob('canceled'), jobId: job.jobId };
    await store.put(other);
    const ctx = ctxOf(store);
    const applied = await record(ctx, job, { status: 'running', statusMessage: 'still going' });
    expect(applied.changed).toBe(false);
    expect(applied.record).toMatchObject({ status: 'canceled', cancelReason: 'user' });
    const late = await record(ctx, job, { status: 'completed', remoteStatus: 'completed', result: { content: [] } });
    expect(late.changed).toBe(false);
    expect(await store.get('default', job.jobId)).toEqual(other);
  });

  it('record() writes the job anew from the caller copy when its record has vanished', async () => {
    const job = runningJob();
    const applied = await record(ctxOf(store), job, { status: 'running', statusMessage: 'recreated' });
    expect(applied.changed).toBe(true);
    expect(await store.get('default', job.jobId)).toEqual(applied.record);
  });

  it('loses no change when several store instances of one process change one record at once', async () => {
    const job = runningJob();
    await store.put(job);
    const writers = Array.from({ length: 4 }, () => new LocalJobStore(dir));
    const changed: string[] = [];
    await Promise.all(
      writers.map(async (writer, w) => {
        const ctx = ctxOf(writer, new FakeClock(minutes(1)));
        for (let i = 0; i < 15; i++) {
          const message = `writer ${w} change ${i}`;
          const change: JobChange =
            w === 0 && i === 10
              ? { status: 'completed', remoteStatus: 'completed', result: { content: [{ type: 'text', text: 'end' }] } }
              : { status: 'running', statusMessage: message };
          // Each writer keeps its own (stale) copy, as a step does.
          const applied = await record(ctx, job, change);
          if (applied.changed) changed.push(change.status === 'completed' ? 'completed' : message);
        }
      }),
    );
    const final = (await store.get('default', job.jobId))!;
    // Every write that said it changed the job is in the record: one revision and one event each.
    expect(final.revision).toBe(job.revision + changed.length);
    const messages = final.events
      .slice(job.events.length)
      .map((e) => (e.status === 'completed' ? 'completed' : e.message));
    expect(messages).toEqual(changed);
    expect(final).toMatchObject({ status: 'completed', result: { content: [{ type: 'text', text: 'end' }] } });
    expect(changed.at(-1)).toBe('completed');
    expect((await readdir(store.jobsDir('default'))).sort()).toEqual([`${job.jobId}.json`]);
  });
});

describe('LocalJobStore record locks', () => {
  const lockOf = (jobId: string) => store.lockOf('default', jobId);

  it('takes over a lock left by a process that died', async () => {
    const job = runningJob();
    await store.put(job);
    await writeFile(
      lockOf(job.jobId),
      JSON.stringify({ pid: deadPid(), host: os.hostname(), at: new Date().toISOString() }),
    );
    const stored = await store.update(
      'default',
      job.jobId,
      (current) => applyChange(current, { status: 'running', statusMessage: 'after the crash' }, minutes(1)).record,
    );
    expect(stored?.statusMessage).toBe('after the crash');
    expect(await readdir(store.jobsDir('default'))).toEqual([`${job.jobId}.json`]);
  });

  it('takes over a lock older than the stale age, even of a live process', async () => {
    const job = runningJob();
    await store.put(job);
    const old = new Date(Date.now() - 60_000).toISOString();
    await writeFile(lockOf(job.jobId), JSON.stringify({ pid: process.pid, host: os.hostname(), at: old }));
    const quick = new LocalJobStore(dir, { lock: { timeoutMs: 5_000, staleMs: 30_000 } });
    expect(await quick.update('default', job.jobId, (current) => ({ ...current, statusMessage: 'x' }))).toMatchObject({
      statusMessage: 'x',
    });
  });

  it('fails with STORE_UNAVAILABLE naming the lock when a live holder keeps it', async () => {
    const job = runningJob();
    await store.put(job);
    const held = JSON.stringify({ pid: process.pid, host: os.hostname(), at: new Date().toISOString() });
    await writeFile(lockOf(job.jobId), held);
    const impatient = new LocalJobStore(dir, { lock: { timeoutMs: 200, staleMs: 60_000 } });
    const error = await rejected(impatient.update('default', job.jobId, (current) => current));
    expect(error.code).toBe('STORE_UNAVAILABLE');
    expect(error.path).toBe(lockOf(job.jobId));
    expect(error.message).toContain(lockOf(job.jobId));
    expect(error.message).toContain(`process ${process.pid}`);
    // The holder's lock was left alone, and the record too.
    expect(await readFile(lockOf(job.jobId), 'utf8')).toBe(held);
    expect(await store.get('default', job.jobId)).toEqual(job);
  });
});

describe('LocalJobStore: one bad record does not break the rest', () => {
  it('skips a damaged record and one of a newer schema in latest and job-key lookups, warning with their files', async () => {
    const log = new FakeLog();
    const logged = new LocalJobStore(dir, { log });
    const good = runningJob({ jobKey: 'nightly', now: minutes(0) });
    const damaged = runningJob({ jobKey: 'nightly', now: minutes(10) });
    const newer = runningJob({ jobKey: 'nightly', now: minutes(20) });
    for (const r of [good, damaged, newer]) await logged.put(r);
    await writeFile(logged.pathOf('default', damaged.jobId), '{"schemaVersion": 1, "jobId": ');
    await writeFile(logged.pathOf('default', newer.jobId), JSON.stringify({ ...newer, schemaVersion: 2 }));

    expect((await logged.latest('default'))?.jobId).toBe(good.jobId);
    expect((await logged.findByKey('default', 'nightly'))?.jobId).toBe(good.jobId);
    const warned = log.warnings.join('\n');
    expect(warned).toContain(logged.pathOf('default', damaged.jobId));
    expect(warned).toContain(logged.pathOf('default', newer.jobId));
    expect(warned).toMatch(/schema version 2/);
    // Asked for by ID, each is an error naming its file.
    for (const bad of [damaged, newer]) {
      const error = await rejected(logged.get('default', bad.jobId));
      expect(error.code).toBe('RECORD_INVALID');
      expect(error.path).toBe(logged.pathOf('default', bad.jobId));
    }
  });
});

/** A completed job whose result is `bytes` of JSON or more. */
function withLargeResult(bytes: number): JobRecord {
  const text = 'x'.repeat(bytes);
  return applyChange(
    runningJob(),
    { status: 'completed', remoteStatus: 'completed', result: { content: [{ type: 'text', text }] } },
    minutes(5),
  ).record;
}

describe('LocalJobStore: large results beside the record', () => {
  it('keeps a result over the limit in results/<job-id>.json (owner-only) and only a reference in the record', async () => {
    const job = withLargeResult(RESULT_INLINE_LIMIT_BYTES + 1);
    await store.put(job);
    const recordText = await readFile(store.pathOf('default', job.jobId), 'utf8');
    expect(recordText.length).toBeLessThan(RESULT_INLINE_LIMIT_BYTES / 4);
    const stored = (await store.get('default', job.jobId))!;
    expect(stored.result).toBeUndefined();
    const file = path.join(dir, 'instances', 'default', 'results', `${job.jobId}.json`);
    expect(store.resultPathOf('default', job.jobId)).toBe(file);
    const resultText = await readFile(file, 'utf8');
    expect(JSON.parse(resultText)).toEqual(job.result);
    expect(stored.resultRef).toEqual({
      bytes: Buffer.byteLength(resultText),
      sha256: expect.stringMatching(/^[0-9a-f]{64}$/),
    });
    expect((await stat(file)).mode & 0o077).toBe(0);
    expect(await store.result(stored)).toEqual(job.result);
  });

  it('keeps a result at the limit inside the record', async () => {
    let job = withLargeResult(0);
    const overhead = Buffer.byteLength(JSON.stringify(job.result));
    job = withLargeResult(RESULT_INLINE_LIMIT_BYTES - overhead);
    expect(Buffer.byteLength(JSON.stringify(job.result))).toBe(RESULT_INLINE_LIMIT_BYTES);
    await store.put(job);
    const stored = (await store.get('default', job.jobId))!;
    expect(stored.result).toEqual(job.result);
    expect(stored.resultRef).toBeUndefined();
    expect(await store.result(stored)).toEqual(job.result);
  });

  it('refuses a result file that is not the one the record refers to, and one that is missing', async () => {
    const job = withLargeResult(RESULT_INLINE_LIMIT_BYTES * 2);
    await store.put(job);
    const stored = (await store.get('default', job.jobId))!;
    const file = store.resultPathOf('default', job.jobId);
    await writeFile(file, JSON.stringify({ content: [{ type: 'text', text: 'forged' }] }));
    const forged = await rejected(store.result(stored));
    expect(forged.code).toBe('RECORD_INVALID');
    expect(forged.message).toContain(file);
    await rm(file);
    const missing = await rejected(store.result(stored));
    expect(missing.code).toBe('RECORD_INVALID');
    expect(missing.message).toContain(file);
  });
});

describe('LocalJobStore job-key claims', () => {
  it('gives each turn to exactly one of many concurrent claimers, across store instances', async () => {
    const claimers = Array.from({ length: 8 }, (_, i) => ({
      store: new LocalJobStore(dir),
      jobId: `job_claimer${String(i).padStart(12, '0')}`,
    }));
    const winners = await Promise.all(claimers.map((c) => c.store.claimKey('default', 'deploy', 1, c.jobId)));
    expect(new Set(winners).size).toBe(1);
    expect(claimers.map((c) => c.jobId)).toContain(winners[0]);
    expect(await store.lastClaim('default', 'deploy')).toEqual({ seq: 1, jobId: winners[0] });
    // The next turn is another claim; other keys and instances are apart.
    expect(await store.claimKey('default', 'deploy', 2, claimers[3]!.jobId)).toBe(claimers[3]!.jobId);
    expect(await store.lastClaim('default', 'deploy')).toEqual({ seq: 2, jobId: claimers[3]!.jobId });
    expect(await store.lastClaim('default', 'deploy-2')).toBeUndefined();
    expect(await store.lastClaim('other', 'deploy')).toBeUndefined();
    // No temporary files are left beside the claims.
    expect((await readdir(store.keysDir('default'))).every((name) => name.endsWith('.claim'))).toBe(true);
  });

  it('reads a damaged claim as a turn nobody can be said to hold, with a warning', async () => {
    const log = new FakeLog();
    const logged = new LocalJobStore(dir, { log });
    await logged.claimKey('default', 'deploy', 1, 'job_abcdefghijklmnop');
    const [name] = await readdir(logged.keysDir('default'));
    await writeFile(path.join(logged.keysDir('default'), name!), '{"jobId": ');
    expect(await logged.lastClaim('default', 'deploy')).toEqual({ seq: 1, jobId: undefined });
    expect(log.warnings.join('\n')).toContain(name);
    expect(await logged.claimKey('default', 'deploy', 1, 'job_qrstuvwxyz234567')).toBeUndefined();
  });
});
