/**
 * Jobs of one workflow run sharing job records, end to end: the built entries run as separate processes, each "job"
 * with its own RUNNER_TEMP and GITHUB_WORKSPACE and its own runtime token for the same run, against the local Actions
 * results service (REAL @actions/cache and @actions/artifact inside the bundles) and the v1 task fixture server.
 * What is checked is what the service and the MCP server really hold, not only what the steps say.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { JobRecord } from '../../src/core/record.js';
import { createJobStore } from '../../src/store/select.js';
import { blobFile } from '../../src/store/cache-blobs.js';
import { startActionsService, withRunnerEnv, type ActionsService } from '../helpers/actions-service.js';
import { allFiles, readRecord, stateDirOf } from '../helpers/jobs.js';
import { describeRun, runEntry, type RunEntryResult } from '../helpers/runner.js';
import { fixtureTask, startFixtureServer, type RunningServer } from '../helpers/servers.js';

const SECRET = 'sk-crossjob-7c1d9e42b6a04f18';
const HEADERS = `Authorization: Bearer ${SECRET}`;

/** The service the sharing scenarios use (and whose every stored byte is scanned at the end). */
let service: ActionsService;
/** A second service for the fault scenarios, so a fault never reaches the other scenarios. */
let faulty: ActionsService;
let server: RunningServer;
let root: string;

beforeAll(async () => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'mcp-jobs-cross-job-'));
  [service, faulty, server] = await Promise.all([
    startActionsService(),
    startActionsService(),
    startFixtureServer({ pollIntervalMs: 200 }),
  ]);
});

afterAll(async () => {
  await Promise.all([service?.close(), faulty?.close(), server?.stop()]);
  if (root) fs.rmSync(root, { recursive: true, force: true, maxRetries: 5 });
});

// ---------------------------------------------------------------------------------------------
// Jobs and steps
// ---------------------------------------------------------------------------------------------

interface Job {
  name: string;
  temp: string;
  workspace: string;
  env: Record<string, string>;
}

const jobs: Job[] = [];
let runSeq = 0;
const newRun = (): string => `${Date.now() % 1_000_000}${String(++runSeq).padStart(2, '0')}`;

/** A job of run `runId`: a fresh runner disk and a runtime token of its own. */
function newJob(runId: string, name: string, svc: ActionsService = service): Job {
  const base = fs.mkdtempSync(path.join(root, `${name}-`));
  const temp = path.join(base, 'temp');
  const workspace = path.join(base, 'workspace');
  fs.mkdirSync(temp);
  fs.mkdirSync(workspace);
  const job = { name, temp, workspace, env: svc.runnerEnv({ runId, jobId: name, workspace, temp }) };
  jobs.push(job);
  return job;
}

function step(job: Job, entry: string, inputs: Record<string, string>): Promise<RunEntryResult> {
  return runEntry(entry, {
    inputs,
    env: job.env,
    runnerTemp: job.temp,
    cwd: job.workspace,
    timeoutMs: 90_000,
  });
}

function submit(job: Job, tool: string, args: object, extra: Record<string, string> = {}): Promise<RunEntryResult> {
  return step(job, 'submit', {
    server: server.url,
    tool,
    arguments: JSON.stringify(args),
    headers: HEADERS,
    ...extra,
  });
}

const messages = (run: RunEntryResult, command: string): string[] =>
  run.commands.filter((c) => c.command === command).map((c) => c.message);

/** Exit code 0, or the whole run in the failure message. */
function expectSuccess(run: RunEntryResult): void {
  expect({ code: run.code, run: run.code === 0 ? '' : describeRun(run) }).toEqual({ code: 0, run: '' });
}

const cacheKeys = (svc: ActionsService = service): string[] =>
  svc.state.cacheEntries.filter((e) => e.finalized).map((e) => e.key);

const createdLines = (tool: string): number =>
  server
    .stdout()
    .split('\n')
    .filter((line) => line.startsWith('CREATED ') && line.split(' ')[2] === tool).length;

// ---------------------------------------------------------------------------------------------
// Sharing
// ---------------------------------------------------------------------------------------------

describe('jobs of one run share job records', () => {
  it('submit in job A, wait in job B (store: auto uses the Actions cache) gives the result', async () => {
    const run = newRun();
    const a = newJob(run, 'deploy');
    const sub = await submit(a, 'slow', { durationMs: 1200, text: 'built in job A' });
    expectSuccess(sub);
    expect(messages(sub, 'warning')).toEqual([]);
    const jobId = sub.outputs['job-id']!;
    const taskId = sub.outputs['task-id']!;
    expect(sub.outputs.status).toBe('running');
    expect(cacheKeys()).toEqual(
      expect.arrayContaining([`mcp-jobs~default~${jobId}~r000003`, expect.stringMatching(`~run${run}~new~`)]),
    );

    const b = newJob(run, 'smoke');
    const wait = await step(b, 'wait', { 'job-id': jobId, headers: HEADERS });
    expectSuccess(wait);
    expect(messages(wait, 'warning')).toEqual([]);
    expect(wait.outputs).toMatchObject({
      'job-id': jobId,
      'task-id': taskId,
      status: 'completed',
      text: 'built in job A',
    });
    expect(JSON.parse(wait.outputs.statuses!)).toEqual({ [jobId]: 'completed' });
    expect(JSON.parse(fs.readFileSync(wait.outputs['result-file']!, 'utf8')).content[0].text).toBe('built in job A');
    expect(readRecord(b.temp, jobId)).toMatchObject({ status: 'completed', remote: { taskId } });
    // Job B shared the end: a third job is answered from the shared record.
    const revisions = cacheKeys().filter((key) => key.startsWith(`mcp-jobs~default~${jobId}~r`));
    expect(revisions.length).toBeGreaterThanOrEqual(2);
    const c = newJob(run, 'report');
    const again = await step(c, 'wait', { 'job-id': jobId, headers: HEADERS });
    expectSuccess(again);
    expect(again.stdout).toContain('answered from the job record');
    expect(again.outputs).toMatchObject({ status: 'completed', text: 'built in job A' });
  });

  it('the same with store: artifact (one single-file artifact per revision, kept retention-days)', async () => {
    const run = newRun();
    const a = newJob(run, 'deploy');
    const sub = await submit(a, 'slow', { durationMs: 1000, text: 'via artifacts' }, { store: 'artifact' });
    expectSuccess(sub);
    expect(messages(sub, 'warning')).toEqual([]);
    const jobId = sub.outputs['job-id']!;
    const artifact = service.state.artifacts.find((x) => x.name === `mcp-jobs~default~${jobId}~r000003`);
    expect(artifact).toMatchObject({ finalized: true, runId: run, jobId: 'deploy' });
    // retention-days defaults to 1.
    const retention = Date.parse(artifact!.expiresAt) - Date.parse(artifact!.createdAt);
    expect(Math.abs(retention - 24 * 3600_000)).toBeLessThan(5 * 60_000);
    expect(cacheKeys().some((key) => key.includes(jobId))).toBe(false);

    const b = newJob(run, 'smoke');
    const wait = await step(b, 'wait', { 'job-id': jobId, headers: HEADERS, store: 'artifact' });
    expectSuccess(wait);
    expect(messages(wait, 'warning')).toEqual([]);
    expect(wait.outputs).toMatchObject({ 'job-id': jobId, status: 'completed', text: 'via artifacts' });
    expect(service.state.artifacts.filter((x) => x.name.startsWith(`mcp-jobs~default~${jobId}~r`)).length).toBe(2);
  });

  it('cancel from job C cancels the task on the server, and job A then reads the job as canceled', async () => {
    const run = newRun();
    const a = newJob(run, 'deploy');
    const sub = await submit(a, 'until-cancelled', {});
    expectSuccess(sub);
    const jobId = sub.outputs['job-id']!;
    const taskId = sub.outputs['task-id']!;

    const c = newJob(run, 'cleanup');
    const cancel = await step(c, 'cancel', { 'job-id': jobId, reason: 'release abandoned', headers: HEADERS });
    expectSuccess(cancel);
    expect(cancel.outputs).toMatchObject({ 'job-id': jobId, 'task-id': taskId, status: 'canceled' });
    expect((await fixtureTask(server, taskId))?.status).toBe('cancelled');

    // A later wait in job A, whose own copy still says running, goes by the shared record job C wrote.
    const wait = await step(a, 'wait', { 'job-id': jobId, headers: HEADERS });
    expect(wait.code).toBe(1);
    expect(wait.outputs.status).toBe('canceled');
    expect(messages(wait, 'error').join('\n')).toContain('release abandoned');
    expect(wait.stdout).toContain('answered from the job record');
    expect(readRecord(a.temp, jobId)).toMatchObject({ status: 'canceled', cancelReason: 'user' });
  });

  it('a re-run of the job with the same job-key adopts the job instead of submitting again', async () => {
    const run = newRun();
    const inputs = { 'job-key': 'deploy-prod' };
    const args = { durationMs: 800, text: 'deployed once' };
    const before = createdLines('slow');
    const first = await submit(newJob(run, 'deploy'), 'slow', args, inputs);
    expectSuccess(first);
    const jobId = first.outputs['job-id']!;
    const taskId = first.outputs['task-id']!;
    expect(createdLines('slow')).toBe(before + 1);

    // Attempt 2 of the job: same run, a fresh runner, the same key; the job has not ended.
    const rerun = await submit(newJob(run, 'deploy'), 'slow', args, inputs);
    expectSuccess(rerun);
    expect(rerun.outputs).toMatchObject({ 'job-id': jobId, 'task-id': taskId, status: 'running' });
    expect(messages(rerun, 'notice').join('\n')).toMatch(new RegExp(`job-key 'deploy-prod'.*${jobId}.*adopting`));
    expect(createdLines('slow')).toBe(before + 1);

    // The job ends (waited for in another job); a re-run now submits anew, unless reuse-terminal says otherwise.
    const wait = await step(newJob(run, 'smoke'), 'wait', { 'job-id': jobId, headers: HEADERS });
    expectSuccess(wait);
    const reuse = await submit(newJob(run, 'deploy'), 'slow', args, { ...inputs, 'reuse-terminal': 'true' });
    expectSuccess(reuse);
    expect(reuse.outputs).toMatchObject({ 'job-id': jobId, 'task-id': taskId, status: 'completed' });
    expect(messages(reuse, 'notice').join('\n')).toContain('adopting');
    expect(createdLines('slow')).toBe(before + 1);

    const fresh = await submit(newJob(run, 'deploy'), 'slow', args, inputs);
    expectSuccess(fresh);
    expect(fresh.outputs['job-id']).not.toBe(jobId);
    expect(fresh.outputs.status).toBe('running');
    expect(fresh.stdout).toContain('submitting anew');
    expect(createdLines('slow')).toBe(before + 2);
  });

  /** The 20 jobs of the next test; the fan-in test after it waits for 10 of them. */
  let shards: { run: string; ids: string[] } | undefined;

  it('20 jobs submitting at once leave 20 intact records that another job reads', async () => {
    const run = newRun();
    const submitters = Array.from({ length: 20 }, (_, i) => newJob(run, `shard-${i}`));
    const args = (i: number) => ({ durationMs: 1_000 + 150 * (i % 10), text: `shard ${i}` });
    const runs = await Promise.all(submitters.map((job, i) => submit(job, 'slow', args(i))));
    for (const sub of runs) {
      expectSuccess(sub);
      // A connection the loaded fixture server reset while twenty submits connected at once is retried (and says
      // so); nothing else is worth a warning.
      expect(
        messages(sub, 'warning').filter((line) => !/Cannot reach the MCP server.*; retrying until /.test(line)),
      ).toEqual([]);
    }
    const ids = runs.map((sub) => sub.outputs['job-id']!);
    expect(new Set(ids).size).toBe(20);
    shards = { run, ids };

    // Another job of the run reads every record through the store a step would build.
    const reader = newJob(run, 'reader');
    const warnings: string[] = [];
    const store = createJobStore({
      kind: 'auto',
      stateDir: stateDirOf(reader.temp),
      retentionDays: 1,
      log: { info: () => undefined, debug: () => undefined, warning: (m) => warnings.push(m) },
      env: reader.env,
    });
    const read = await withRunnerEnv(reader.env, () => Promise.all(ids.map((id) => store.get('default', id))));
    expect(read.error).toBeUndefined();
    const records = read.result as (JobRecord | undefined)[];
    records.forEach((record, i) => {
      expect(record).toMatchObject({
        jobId: ids[i],
        status: 'running',
        revision: 3,
        tool: 'slow',
        arguments: args(i),
        remote: { taskId: runs[i]!.outputs['task-id'] },
        github: { runId: run, job: `shard-${i}` },
      });
    });
    expect(warnings).toEqual([]);
    // One revision entry per job, finalized once.
    for (const id of ids) {
      expect(cacheKeys().filter((key) => key.includes(`~${id}~r`))).toEqual([`mcp-jobs~default~${id}~r000003`]);
    }
  }, 150_000);

  it('one wait step follows 10 jobs at once', async () => {
    // Ten of the jobs the 20 parallel submits above left running (1.0-2.35 s of work each).
    expect(shards).toBeDefined();
    const { run, ids: all } = shards!;
    const ids = all.slice(0, 10);
    const waiter = newJob(run, 'gather');
    const wait = await step(waiter, 'wait', { 'job-id': ids.join('\n'), headers: HEADERS });
    expectSuccess(wait);
    expect(messages(wait, 'warning')).toEqual([]);
    expect(wait.outputs.status).toBe('completed');
    expect(wait.outputs['job-id']).toBe(ids.join(','));
    expect(JSON.parse(wait.outputs.statuses!)).toEqual(Object.fromEntries(ids.map((id) => [id, 'completed'])));
    expect(JSON.parse(wait.outputs.text!)).toEqual(Object.fromEntries(ids.map((id, i) => [id, `shard ${i}`])));
    const rows = wait.summary.split('\n').filter((line) => /^\| `job_/.test(line));
    expect(rows).toHaveLength(10);
    for (const id of ids) {
      expect(rows.filter((row) => row.includes(id) && row.includes('| completed |'))).toHaveLength(1);
      expect(wait.stdout).toMatch(new RegExp(`^${id}: completed`, 'm'));
    }
  }, 120_000);
});

// ---------------------------------------------------------------------------------------------
// The shared store failing
// ---------------------------------------------------------------------------------------------

describe('when the shared store fails', () => {
  const causes = {
    down: /ECONNREFUSED/,
    '429': /429|rate.?limit/i,
    'read-only': /write denied|no writable scopes|read-only/i,
  } as const;

  for (const fault of ['down', '429', 'read-only'] as const) {
    it(`(${fault}) submit keeps the local record and warns once with the cause; a wait elsewhere says why it finds nothing`, async () => {
      const run = newRun();
      const a = newJob(run, 'deploy', faulty);
      await faulty.setFault(fault);
      let sub: RunEntryResult;
      let recordAfterSubmit: Record<string, any> | undefined;
      let waitDuring: RunEntryResult | undefined;
      let waitSameJob: RunEntryResult | undefined;
      try {
        sub = await submit(a, 'slow', { durationMs: 400, text: `despite ${fault}` });
        if (sub.code === 0) recordAfterSubmit = readRecord(a.temp, sub.outputs['job-id']!);
        // Another job while the fault lasts (a read-only token still reads).
        waitDuring = await step(newJob(run, 'smoke', faulty), 'wait', { 'job-id': sub.outputs['job-id'] ?? '' });
        if (fault === 'down')
          waitSameJob = await step(a, 'wait', { 'job-id': sub.outputs['job-id'] ?? '', headers: HEADERS });
      } finally {
        await faulty.setFault(null);
      }
      expectSuccess(sub);
      const jobId = sub.outputs['job-id']!;
      expect(sub.outputs.status).toBe('running');
      expect(recordAfterSubmit).toMatchObject({ jobId, status: 'running', remote: { taskId: sub.outputs['task-id'] } });
      const warnings = messages(sub, 'warning');
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toMatch(/Actions cache/);
      expect(warnings[0]).toMatch(causes[fault]);
      expect(faulty.state.cacheEntries.some((e) => e.key.includes(jobId))).toBe(false);

      const prefix = `mcp-jobs~default~${jobId}~r`;
      const explained = (run: RunEntryResult): string => messages(run, 'error').join('\n');
      expect(waitDuring!.code).toBe(1);
      expect(explained(waitDuring!)).toContain('Actions cache');
      expect(explained(waitDuring!)).toContain(prefix);
      // While the service fails, the cause is the failure; once it works again, it is the submit that could not write.
      expect(explained(waitDuring!)).toMatch(
        fault === 'read-only' ? /the submitting job could not write to the Actions cache/ : causes[fault],
      );
      expect(messages(waitDuring!, 'warning')).toEqual([]);

      if (waitSameJob !== undefined) {
        // The job that submitted goes on with its own record (and says once that the cache is not there).
        expectSuccess(waitSameJob);
        expect(waitSameJob.outputs).toMatchObject({ status: 'completed', text: `despite ${fault}` });
        const sameJobWarnings = messages(waitSameJob, 'warning');
        expect(sameJobWarnings).toHaveLength(1);
        expect(sameJobWarnings[0]).toMatch(causes[fault]);
      }
      if (fault !== 'read-only') {
        const after = await step(newJob(run, 'later', faulty), 'wait', { 'job-id': jobId });
        expect(after.code).toBe(1);
        expect(explained(after)).toContain('Actions cache');
        expect(explained(after)).toContain(prefix);
        expect(explained(after)).toMatch(/the submitting job could not write to the Actions cache/);
      }
    });
  }
});

// ---------------------------------------------------------------------------------------------
// No secret in any stored byte
// ---------------------------------------------------------------------------------------------

/** The files in a cache entry's archive (tar, zstd- or gzip-compressed), by name. */
function unpackCacheArchive(bytes: Buffer): Map<string, string> {
  const zstd = bytes.subarray(0, 4).equals(Buffer.from([0x28, 0xb5, 0x2f, 0xfd]));
  const gzip = bytes[0] === 0x1f && bytes[1] === 0x8b;
  expect({ compressed: zstd || gzip }).toEqual({ compressed: true });
  const dir = fs.mkdtempSync(path.join(root, 'unpack-'));
  const archive = path.join(dir, zstd ? 'cache.tzst' : 'cache.tgz');
  fs.writeFileSync(archive, bytes);
  const out = path.join(dir, 'out');
  fs.mkdirSync(out);
  execFileSync('tar', ['-x', zstd ? '--use-compress-program=zstd -d' : '-z', '-f', archive, '-C', out, '-P']);
  return new Map(allFiles(out).map(({ file, text }) => [path.relative(out, file), text]));
}

describe('no secret is ever stored', () => {
  it(`no cache entry, artifact or runner file holds the token passed in headers`, async () => {
    for (const svc of [service, faulty]) {
      const { cacheEntries, artifacts } = svc.state.snapshot();
      if (svc === service) expect(cacheEntries.length + artifacts.length).toBeGreaterThan(50);
      for (const entry of cacheEntries.filter((e) => e.finalized)) {
        const response = await fetch(svc.signBlobUrl('cache', entry.id));
        expect(response.status).toBe(200);
        const bytes = Buffer.from(await response.arrayBuffer());
        expect({ key: entry.key, leaked: bytes.includes(SECRET) }).toEqual({ key: entry.key, leaked: false });
        const files = unpackCacheArchive(bytes);
        const { file } = blobFile(entry.key);
        expect([...files.keys()]).toEqual([file]);
        const text = files.get(file)!;
        expect({ key: entry.key, leaked: text.includes(SECRET) }).toEqual({ key: entry.key, leaked: false });
        expect(JSON.parse(text)).toMatchObject({ schemaVersion: 1, jobId: expect.stringMatching(/^job_/) });
      }
      for (const artifact of artifacts.filter((a) => a.finalized && !a.deleted)) {
        const response = await fetch(svc.signBlobUrl('artifacts', artifact.id));
        expect(response.status).toBe(200);
        const text = Buffer.from(await response.arrayBuffer()).toString('utf8');
        expect({ name: artifact.name, leaked: text.includes(SECRET) }).toEqual({ name: artifact.name, leaked: false });
        expect(JSON.parse(text)).toMatchObject({ schemaVersion: 1 });
      }
    }
    // Every job's runner disk, including the records other jobs restored from the shared stores.
    expect(jobs.length).toBeGreaterThan(40);
    for (const job of jobs) {
      for (const { file, text } of allFiles(job.temp)) {
        expect({ file, leaked: text.includes(SECRET) }).toEqual({ file, leaked: false });
      }
    }
  });
});
