/**
 * One contract for every JobStore: the layered store over the runner's disk only, over the Actions cache and over
 * workflow artifacts, and the shared (write-once revision) store on its own. The shared ones run against the local
 * Actions results service with the REAL `@actions/cache` and `@actions/artifact`; each "job" of a "workflow run" is
 * its own runner disk (RUNNER_TEMP, GITHUB_WORKSPACE, state dir) and its own runtime token.
 *
 * The libraries read their configuration from process.env at call time, so every store call runs inside
 * `withRunnerEnv` with the env of the job that makes it (calls are serialized; interleavings are chosen by the test).
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { JobStore, Log } from '../../src/core/ports.js';
import { applyChange, createRecord, type JobChange, type JobRecord, type RemoteRef } from '../../src/core/record.js';
import { ArtifactBlobs } from '../../src/store/artifact-blobs.js';
import { CacheBlobs } from '../../src/store/cache-blobs.js';
import { createJobStore } from '../../src/store/select.js';
import { SharedJobStore } from '../../src/store/shared.js';
import { backendIds, startActionsService, withRunnerEnv, type ActionsService } from '../helpers/actions-service.js';

let service: ActionsService;
let root: string;

beforeAll(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'mcp-jobs-store-contract-'));
  service = await startActionsService();
});

afterAll(async () => {
  await service?.close();
  if (root) await rm(root, { recursive: true, force: true, maxRetries: 5 });
});

// ---------------------------------------------------------------------------------------------
// Jobs, runs and stores under test
// ---------------------------------------------------------------------------------------------

/** Where a store is used: a job of a workflow run (same run + job = same runner disk). */
interface Peer {
  runId: string;
  job: string;
  /** The run's branch (cache scope); default `refs/heads/main`. */
  ref?: string;
}

interface StoreUnderTest extends JobStore {
  /** Warnings the store logged (a shared store that failed says so). */
  readonly warnings: string[];
}

interface ContractSubject {
  /** Where records go beyond the runner's disk. */
  backend: 'local' | 'cache' | 'artifact';
  /** The store a step of `peer` builds. Every call runs with that job's runner env. */
  open(peer: Peer): Promise<StoreUnderTest>;
  /** Another job of the same run reads what one job wrote. */
  sharedAcrossJobs: boolean;
  /** A job of another run (same branch) finds a record by its job ID. */
  crossRunById: boolean;
}

let runSeq = 0;
/** A workflow run ID no other test uses (the service and its cache entries live for the whole file). */
const newRun = (): string => `${Date.now() % 1_000_000}${String(++runSeq).padStart(3, '0')}`;

interface PeerDirs {
  workspace: string;
  temp: string;
  stateDir: string;
  env: Record<string, string>;
}

const peers = new Map<string, Promise<PeerDirs>>();

/** The runner disk and env of a job (created once per run/job). */
function peerDirs(peer: Peer): Promise<PeerDirs> {
  const id = `${peer.runId}-${peer.job}`;
  let dirs = peers.get(id);
  if (dirs === undefined) {
    dirs = (async () => {
      const base = path.join(root, id);
      const workspace = path.join(base, 'workspace');
      const temp = path.join(base, 'temp');
      const stateDir = path.join(temp, 'mcp-jobs');
      await mkdir(workspace, { recursive: true });
      await mkdir(stateDir, { recursive: true });
      const env = service.runnerEnv({
        runId: peer.runId,
        jobId: peer.job,
        ref: peer.ref ?? 'refs/heads/main',
        workspace,
        temp,
      });
      return { workspace, temp, stateDir, env };
    })();
    peers.set(id, dirs);
  }
  return dirs;
}

function collectingLog(warnings: string[]): Log {
  return { info: () => undefined, debug: () => undefined, warning: (message) => warnings.push(message) };
}

/** Runs `fn` as a step of the job with `env` and hands back its value or its error. */
async function inJob<T>(env: Record<string, string>, fn: () => Promise<T>): Promise<T> {
  const outcome = await withRunnerEnv(env, fn);
  if ('error' in outcome) throw outcome.error;
  return outcome.result as T;
}

/** A JobStore whose every call runs in the job's runner env. */
function inEnv(env: Record<string, string>, store: JobStore, warnings: string[]): StoreUnderTest {
  return {
    warnings,
    description: store.description,
    get: (instance, jobId) => inJob(env, () => store.get(instance, jobId)),
    put: (record) => inJob(env, () => store.put(record)),
    latest: (instance) => inJob(env, () => store.latest(instance)),
    findByKey: (instance, jobKey) => inJob(env, () => store.findByKey(instance, jobKey)),
  };
}

/** The layered store exactly as a step builds it (`createJobStore`), for one `store` input. */
function layered(kind: 'local' | 'cache' | 'artifact'): ContractSubject {
  return {
    backend: kind,
    sharedAcrossJobs: kind !== 'local',
    crossRunById: kind === 'cache',
    async open(peer) {
      const dirs = await peerDirs(peer);
      const warnings: string[] = [];
      const store = createJobStore({
        kind,
        stateDir: dirs.stateDir,
        retentionDays: 1,
        log: collectingLog(warnings),
        env: dirs.env,
      });
      return inEnv(dirs.env, store, warnings);
    },
  };
}

const CONFLICT_WAIT_MS = 400;

/**
 * The shared store alone, as a JobStore: `put` saves a revision (and indexes the job the first time this store
 * writes it, as the layered store does for jobs it created), `get` reads the newest revision.
 */
function sharedDirect(kind: 'cache' | 'artifact'): ContractSubject {
  return {
    backend: kind,
    sharedAcrossJobs: true,
    crossRunById: kind === 'cache',
    async open(peer) {
      const dirs = await peerDirs(peer);
      const scratch = path.join(dirs.stateDir, '.scratch');
      await mkdir(scratch, { recursive: true });
      const blobs = kind === 'cache' ? new CacheBlobs(scratch, dirs.env) : new ArtifactBlobs(scratch, 1, dirs.env);
      // A short wait for a winner's upload, so the test of a winner that lands later still is quick.
      const shared = new SharedJobStore(blobs, peer.runId, { conflictWaitMs: CONFLICT_WAIT_MS });
      const indexed = new Set<string>();
      const store: JobStore = {
        description: shared.description,
        get: (instance, jobId) => shared.get(instance, jobId),
        async put(record) {
          const stored = await shared.save(record);
          if (!indexed.has(record.jobId)) {
            indexed.add(record.jobId);
            await shared.index(stored);
          }
        },
        latest: (instance) => shared.latest(instance),
        findByKey: (instance, jobKey) => shared.findByKey(instance, jobKey),
        explainMissing: (instance, jobId) => shared.explainMissing(instance, jobId),
      };
      return inEnv(dirs.env, store, []);
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Records
// ---------------------------------------------------------------------------------------------

let clock = Date.parse('2026-11-20T08:00:00.000Z');
/** A fake clock that only moves forward: creation order is the order jobs are made in. */
const tick = (ms = 1_000): Date => new Date((clock += ms));

function remoteRef(taskId: string): RemoteRef {
  return {
    generation: '2025-11-25',
    taskId,
    protocolVersion: '2025-11-25',
    sessionId: `session-${taskId}`,
    serverCapabilities: { tasks: { requests: { tools: { call: {} } } } },
    endpointId: 'mcp-jobs:http://mcp.test/mcp',
  };
}

/** A new job as submit records it first: queued, revision 1. */
function queued(options: { instance?: string; jobKey?: string; tool?: string } = {}): JobRecord {
  return createRecord({
    instance: options.instance ?? 'default',
    ...(options.jobKey === undefined ? {} : { jobKey: options.jobKey }),
    serverUrl: 'http://mcp.test/mcp',
    tool: options.tool ?? 'research',
    arguments: { topic: 'tides', note: 'ünïcødé ✓', token: '***' },
    redactedArguments: ['token'],
    now: tick(),
  });
}

function next(record: JobRecord, change: JobChange): JobRecord {
  const applied = applyChange(record, change, tick());
  if (!applied.changed) throw new Error(`change ${JSON.stringify(change)} changed nothing`);
  return applied.record;
}

const running = (record: JobRecord): JobRecord =>
  next(record, { status: 'running', remoteStatus: 'working', remote: remoteRef(`task-${record.jobId}`) });

/** Writes a job the way submit does: queued first, then running with its task. Returns the running record. */
async function submitted(store: JobStore, options: Parameters<typeof queued>[0] = {}): Promise<JobRecord> {
  const first = queued(options);
  await store.put(first);
  const started = running(first);
  await store.put(started);
  return started;
}

const completed = (record: JobRecord, text = 'done'): JobRecord =>
  next(record, { status: 'completed', remoteStatus: 'completed', result: { content: [{ type: 'text', text }] } });

const canceled = (record: JobRecord): JobRecord =>
  next(record, { status: 'canceled', remoteStatus: 'cancelled', cancelReason: 'user', statusMessage: 'stop it' });

const inputRequired = (record: JobRecord): JobRecord =>
  next(record, { status: 'input_required', remoteStatus: 'input_required', statusMessage: 'need a choice' });

const withoutRevision = ({ revision: _revision, ...rest }: JobRecord): Omit<JobRecord, 'revision'> => rest;

// ---------------------------------------------------------------------------------------------
// Another job's upload, caught in flight (through the service protocol, as the libraries speak it)
// ---------------------------------------------------------------------------------------------

const CACHE_SERVICE = 'github.actions.results.api.v1.CacheService';
const ARTIFACT_SERVICE = 'github.actions.results.api.v1.ArtifactService';

async function twirp(serviceName: string, method: string, token: string, body: object): Promise<any> {
  const response = await fetch(`${service.url}/twirp/${serviceName}/${method}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify(body),
  });
  const json = (await response.json()) as any;
  if (!response.ok || json.ok === false) throw new Error(`${method}: HTTP ${response.status} ${JSON.stringify(json)}`);
  return json;
}

async function putBlob(url: string, bytes: Buffer): Promise<void> {
  const response = await fetch(url, { method: 'PUT', headers: { 'x-ms-blob-type': 'BlockBlob' }, body: bytes });
  if (response.status !== 201) throw new Error(`blob PUT: HTTP ${response.status} ${await response.text()}`);
}

/** The cache archive the library would make of a record: `mcp-jobs-record.json` in a zstd-compressed tar. */
async function cacheArchive(content: string): Promise<Buffer> {
  const dir = await mkdtemp(path.join(root, 'archive-'));
  await writeFile(path.join(dir, 'mcp-jobs-record.json'), content);
  execFileSync(
    'tar',
    ['--posix', '-cf', 'cache.tzst', '-P', '--use-compress-program', 'zstd', 'mcp-jobs-record.json'],
    {
      cwd: dir,
    },
  );
  return execFileSync('cat', [path.join(dir, 'cache.tzst')]);
}

/**
 * Job `peer` has created blob `name` and uploaded its bytes, but not finalized it: the name is taken, and nobody
 * can read the blob until `finalize()`.
 */
async function uploadInFlight(
  backend: 'cache' | 'artifact',
  peer: Peer,
  name: string,
  record: JobRecord,
): Promise<{ finalize(): Promise<void> }> {
  const token = service.mintRuntimeToken({ runId: peer.runId, jobId: peer.job });
  if (backend === 'cache') {
    // Our entries all share one version (same path, compression and cross-OS flag).
    const version = service.state.cacheEntries.find((e) => e.key.startsWith('mcp-jobs~') && e.finalized)!.version;
    const bytes = await cacheArchive(JSON.stringify(record));
    const created = await twirp(CACHE_SERVICE, 'CreateCacheEntry', token, { key: name, version });
    await putBlob(created.signed_upload_url, bytes);
    return {
      finalize: async () => {
        await twirp(CACHE_SERVICE, 'FinalizeCacheEntryUpload', token, {
          key: name,
          version,
          size_bytes: String(bytes.length),
        });
      },
    };
  }
  const ids = backendIds({ runId: peer.runId, jobId: peer.job });
  const bytes = Buffer.from(JSON.stringify(record));
  const run = {
    workflow_run_backend_id: ids.workflowRunBackendId,
    workflow_job_run_backend_id: ids.workflowJobRunBackendId,
  };
  const created = await twirp(ARTIFACT_SERVICE, 'CreateArtifact', token, { ...run, name, version: 4 });
  await putBlob(created.signed_upload_url, bytes);
  return {
    finalize: async () => {
      await twirp(ARTIFACT_SERVICE, 'FinalizeArtifact', token, { ...run, name, size: String(bytes.length) });
    },
  };
}

const delay = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const revisionName = (record: JobRecord): string =>
  `mcp-jobs~${record.instance}~${record.jobId}~r${String(record.revision).padStart(6, '0')}`;

// ---------------------------------------------------------------------------------------------
// The contract
// ---------------------------------------------------------------------------------------------

function describeJobStoreContract(name: string, makeSubject: () => ContractSubject): void {
  describe(name, () => {
    const subject = makeSubject();

    it('answers undefined for a job it does not have', async () => {
      const run = newRun();
      const store = await subject.open({ runId: run, job: 'a' });
      expect(await store.get('default', 'job_doesnotexist00000000')).toBeUndefined();
      await submitted(store);
      expect(await store.get('default', 'job_doesnotexist00000000')).toBeUndefined();
      if (subject.sharedAcrossJobs) {
        const other = await subject.open({ runId: run, job: 'b' });
        expect(await other.get('default', 'job_doesnotexist00000000')).toBeUndefined();
      }
      expect(store.warnings).toEqual([]);
    });

    it('reads back exactly what it wrote (and so does another job of the run)', async () => {
      const run = newRun();
      const store = await subject.open({ runId: run, job: 'a' });
      const first = queued();
      await store.put(first);
      expect(await store.get('default', first.jobId)).toEqual(first);
      const started = running(first);
      await store.put(started);
      expect(await store.get('default', started.jobId)).toEqual(started);
      if (subject.sharedAcrossJobs) {
        const other = await subject.open({ runId: run, job: 'b' });
        expect(await other.get('default', started.jobId)).toEqual(started);
      }
      expect(store.warnings).toEqual([]);
    });

    it('a later revision wins, and an older one written late does not undo it', async () => {
      const run = newRun();
      const store = await subject.open({ runId: run, job: 'a' });
      const r2 = await submitted(store);
      const r3 = inputRequired(r2);
      await store.put(r3);
      const r4 = running(r3);
      await store.put(r4);
      const r5 = completed(r4, 'final answer');
      await store.put(r5);
      expect(r5.revision).toBe(5);
      expect(await store.get('default', r5.jobId)).toEqual(r5);
      const other = subject.sharedAcrossJobs ? await subject.open({ runId: run, job: 'b' }) : undefined;
      expect(await other?.get('default', r5.jobId)).toEqual(other === undefined ? undefined : r5);

      // A stale writer (revision 3, not ended) comes in late: the job stays completed with its result.
      await store.put(r3);
      const after = await store.get('default', r5.jobId);
      expect(after).toMatchObject({ status: 'completed', result: r5.result, finishedAt: r5.finishedAt });
      expect(after!.revision).toBeGreaterThan(5);
      // Another job reads the same ended job (a reconciliation that changed nothing need not be shared again).
      if (other !== undefined)
        expect(withoutRevision((await other.get('default', r5.jobId))!)).toEqual(withoutRevision(after!));
      expect(store.warnings).toEqual([]);
    });

    it('latest is the newest job of the instance', async () => {
      const run = newRun();
      const store = await subject.open({ runId: run, job: 'a' });
      expect(await store.latest('default')).toBeUndefined();
      const older = await submitted(store);
      const newer = await submitted(store);
      expect((await store.latest('default'))?.jobId).toBe(newer.jobId);
      if (subject.sharedAcrossJobs) {
        const other = await subject.open({ runId: run, job: 'b' });
        expect(await other.latest('default')).toEqual(newer);
        // A job of another instance is no candidate.
        await submitted(other, { instance: 'elsewhere' });
        expect((await other.latest('default'))?.jobId).toBe(newer.jobId);
      }
      expect(older.createdAt < newer.createdAt).toBe(true);
      expect(store.warnings).toEqual([]);
    });

    it('latest and findByKey give the newest by creation, whatever order the jobs were shared in', async () => {
      const run = newRun();
      const store = await subject.open({ runId: run, job: 'a' });
      // Two jobs with one key are created in this order, but the newer one is written (and shared) first.
      const olderQueued = queued({ jobKey: 'nightly' });
      const newerQueued = queued({ jobKey: 'nightly' });
      await store.put(newerQueued);
      await store.put(running(newerQueued));
      await store.put(olderQueued);
      await store.put(running(olderQueued));
      expect((await store.latest('default'))?.jobId).toBe(newerQueued.jobId);
      expect((await store.findByKey('default', 'nightly'))?.jobId).toBe(newerQueued.jobId);
      if (subject.sharedAcrossJobs) {
        const other = await subject.open({ runId: run, job: 'b' });
        expect((await other.latest('default'))?.jobId).toBe(newerQueued.jobId);
        expect((await other.findByKey('default', 'nightly'))?.jobId).toBe(newerQueued.jobId);
      }
      expect(store.warnings).toEqual([]);
    });

    if (subject.sharedAcrossJobs) {
      it("latest is this run's; a job of another run on the branch is found only by its ID", async () => {
        const run = newRun();
        const here = await subject.open({ runId: run, job: 'a' });
        const ours = await submitted(here);
        // Another run of the workflow on the same branch submits later.
        const otherRun = newRun();
        const there = await subject.open({ runId: otherRun, job: 'a' });
        const theirs = await submitted(there);
        expect(theirs.createdAt > ours.createdAt).toBe(true);

        const reader = await subject.open({ runId: run, job: 'b' });
        expect((await reader.latest('default'))?.jobId).toBe(ours.jobId);
        expect((await here.latest('default'))?.jobId).toBe(ours.jobId);
        // An explicit job ID crosses runs where the store does (cache), and does not where it cannot (artifacts).
        expect(await reader.get('default', theirs.jobId)).toEqual(subject.crossRunById ? theirs : undefined);
        // The other run sees its own job as latest.
        const otherReader = await subject.open({ runId: otherRun, job: 'b' });
        expect((await otherReader.latest('default'))?.jobId).toBe(theirs.jobId);
      });
    }

    it('findByKey finds the newest job submitted with the key', async () => {
      const run = newRun();
      const store = await subject.open({ runId: run, job: 'a' });
      expect(await store.findByKey('default', 'deploy')).toBeUndefined();
      const first = await submitted(store, { jobKey: 'deploy' });
      const unrelated = await submitted(store, { jobKey: 'smoke' });
      expect((await store.findByKey('default', 'deploy'))?.jobId).toBe(first.jobId);
      expect((await store.findByKey('default', 'smoke'))?.jobId).toBe(unrelated.jobId);
      const ended = completed(first);
      await store.put(ended);
      // The key finds the job as it is now, not as it was indexed.
      expect(await store.findByKey('default', 'deploy')).toEqual(ended);
      const again = await submitted(store, { jobKey: 'deploy' });
      expect((await store.findByKey('default', 'deploy'))?.jobId).toBe(again.jobId);
      expect(await store.findByKey('default', 'deplo')).toBeUndefined();
      expect(await store.findByKey('default', 'deploy-2')).toBeUndefined();

      if (subject.sharedAcrossJobs) {
        // A re-run of the job (same run, a fresh runner disk) finds it.
        const rerun = await subject.open({ runId: run, job: 'a-attempt-2' });
        expect(await rerun.findByKey('default', 'deploy')).toEqual(again);
        // Another run with the same key is not this run's job.
        const otherRun = await subject.open({ runId: newRun(), job: 'a' });
        expect(await otherRun.findByKey('default', 'deploy')).toBeUndefined();
        const theirs = await submitted(otherRun, { jobKey: 'deploy' });
        expect((await rerun.findByKey('default', 'deploy'))?.jobId).toBe(again.jobId);
        expect((await otherRun.findByKey('default', 'deploy'))?.jobId).toBe(theirs.jobId);
      }
      expect(store.warnings).toEqual([]);
    });

    it('records of another instance are invisible', async () => {
      const run = newRun();
      const store = await subject.open({ runId: run, job: 'a' });
      const job = await submitted(store, { instance: 'team-a', jobKey: 'k' });
      expect(await store.get('team-a', job.jobId)).toEqual(job);
      expect(await store.get('team-b', job.jobId)).toBeUndefined();
      expect(await store.latest('team-b')).toBeUndefined();
      expect(await store.findByKey('team-b', 'k')).toBeUndefined();
      // An instance whose name starts with the other's is another instance too.
      expect(await store.get('team', job.jobId)).toBeUndefined();
      expect(await store.latest('team')).toBeUndefined();
      if (subject.sharedAcrossJobs) {
        const other = await subject.open({ runId: run, job: 'b' });
        expect(await other.get('team-a', job.jobId)).toEqual(job);
        expect(await other.get('team-b', job.jobId)).toBeUndefined();
        expect(await other.latest('team-b')).toBeUndefined();
        expect(await other.findByKey('team-b', 'k')).toBeUndefined();
      }
    });

    it('two writers of one revision on the same runner: the loser merges and an ended job stays ended', async () => {
      const run = newRun();
      const first = await subject.open({ runId: run, job: 'a' });
      const second = await subject.open({ runId: run, job: 'a' });
      const r2 = await submitted(first);
      const base = await second.get('default', r2.jobId);
      expect(base).toEqual(r2);
      // Both take revision 3: the first ends the job, the second (from the same base) only saw input_required.
      const ended = canceled(r2);
      const stale = inputRequired(base!);
      expect([ended.revision, stale.revision]).toEqual([3, 3]);
      await first.put(ended);
      await second.put(stale);
      const a = await first.get('default', r2.jobId);
      const b = await second.get('default', r2.jobId);
      expect(b).toEqual(a);
      expect(a).toMatchObject({ status: 'canceled', cancelReason: 'user', finishedAt: ended.finishedAt });
      expect(a!.revision).toBeGreaterThanOrEqual(3);
    });

    if (subject.sharedAcrossJobs) {
      it('two jobs write one revision: the loser reconciles, an ended job stays ended, both read the newest record', async () => {
        const run = newRun();
        const a = await subject.open({ runId: run, job: 'a' });
        const b = await subject.open({ runId: run, job: 'b' });
        const r2 = await submitted(a);
        expect(await b.get('default', r2.jobId)).toEqual(r2);

        // Job b ends the job first; job a, not knowing, writes its own revision 3 (input_required).
        const ended = canceled(r2);
        const stale = inputRequired(r2);
        await b.put(ended);
        await a.put(stale);
        const readA = await a.get('default', r2.jobId);
        const readB = await b.get('default', r2.jobId);
        expect(readA).toMatchObject({ status: 'canceled', cancelReason: 'user', finishedAt: ended.finishedAt });
        expect(readA!.revision).toBe(4);
        // b's own copy is the revision it wrote; the shared newest is the reconciled one with the same content.
        expect(withoutRevision(readB!)).toEqual(withoutRevision(readA!));
        const fresh = await subject.open({ runId: run, job: 'c' });
        expect(await fresh.get('default', r2.jobId)).toEqual(readA);
      });

      it('two jobs write one revision: the ended one loses the race and still ends the job everywhere', async () => {
        const run = newRun();
        const a = await subject.open({ runId: run, job: 'a' });
        const b = await subject.open({ runId: run, job: 'b' });
        const r2 = await submitted(a);
        expect(await b.get('default', r2.jobId)).toEqual(r2);

        // Job a writes revision 3 (input_required) first; job b's cancel takes revision 3 too and loses.
        const stale = inputRequired(r2);
        const ended = canceled(r2);
        await a.put(stale);
        await b.put(ended);
        const readB = await b.get('default', r2.jobId);
        expect(readB).toMatchObject({ status: 'canceled', cancelReason: 'user', revision: 4 });
        // Job a, which wrote the revision the cancel lost to, must not keep reading its own unfinished copy.
        const readA = await a.get('default', r2.jobId);
        expect(readA).toEqual(readB);
        const fresh = await subject.open({ runId: run, job: 'c' });
        expect(await fresh.get('default', r2.jobId)).toEqual(readB);
        expect([...a.warnings, ...b.warnings]).toEqual([]);
      });

      it('a writer that loses a revision to an upload still in flight reconciles with it once it lands', async () => {
        const backend = subject.backend as 'cache' | 'artifact';
        const run = newRun();
        const a = await subject.open({ runId: run, job: 'a' });
        const b = await subject.open({ runId: run, job: 'b' });
        const r2 = await submitted(a);
        expect(await b.get('default', r2.jobId)).toEqual(r2);
        // Job x saw the job complete and is still uploading revision 3 when job b cancels it.
        const theirs = completed(r2, 'finished first');
        const upload = await uploadInFlight(backend, { runId: run, job: 'x' }, revisionName(theirs), theirs);
        const cancel = b.put(canceled(r2));
        await delay(250);
        await upload.finalize();
        await cancel;
        // The job ended first by completing: that is what everyone reads, with its result, at revision 4.
        const expected = { status: 'completed', result: theirs.result, finishedAt: theirs.finishedAt, revision: 4 };
        expect(await b.get('default', r2.jobId)).toMatchObject(expected);
        expect(await a.get('default', r2.jobId)).toMatchObject(expected);
        expect(await (await subject.open({ runId: run, job: 'c' })).get('default', r2.jobId)).toMatchObject(expected);
        expect([...a.warnings, ...b.warnings]).toEqual([]);
      });
    }

    if (subject.sharedAcrossJobs && name.startsWith('SharedJobStore')) {
      it('a revision that lands only after the loser wrote the next one does not hide the newer one', async () => {
        const backend = subject.backend as 'cache' | 'artifact';
        const run = newRun();
        const a = await subject.open({ runId: run, job: 'a' });
        const r2 = await submitted(a);
        // Job x took revision 3 and its upload outlasts the loser's patience (a slow or dead runner).
        const theirs = inputRequired(r2);
        const upload = await uploadInFlight(backend, { runId: run, job: 'x' }, revisionName(theirs), theirs);
        const started = Date.now();
        await a.put(canceled(r2));
        expect(Date.now() - started).toBeGreaterThanOrEqual(CONFLICT_WAIT_MS);
        await upload.finalize();
        // Revision 3 is now the entry written last; the canceled revision 4 is still the newest.
        const expected = { status: 'canceled', cancelReason: 'user', revision: 4 };
        expect(await a.get('default', r2.jobId)).toMatchObject(expected);
        expect(await (await subject.open({ runId: run, job: 'c' })).get('default', r2.jobId)).toMatchObject(expected);
      });
    }
  });
}

describeJobStoreContract('LayeredJobStore over the runner disk only (store: local)', () => layered('local'));
describeJobStoreContract('LayeredJobStore over the Actions cache (store: cache)', () => layered('cache'));
describeJobStoreContract('LayeredJobStore over workflow artifacts (store: artifact)', () => layered('artifact'));
describeJobStoreContract('SharedJobStore over the Actions cache', () => sharedDirect('cache'));
describeJobStoreContract('SharedJobStore over workflow artifacts', () => sharedDirect('artifact'));
