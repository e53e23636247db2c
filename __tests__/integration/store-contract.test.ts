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
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { record } from '../../src/core/commands/context.js';
import { submitJob } from '../../src/core/commands/submit.js';
import { systemClock, type Clock, type JobStore, type Log } from '../../src/core/ports.js';
import {
  applyChange,
  createRecord,
  newJobId,
  RESULT_INLINE_LIMIT_BYTES,
  type JobChange,
  type JobRecord,
  type RemoteRef,
} from '../../src/core/record.js';
import { ArtifactBlobs } from '../../src/store/artifact-blobs.js';
import { blobFile, CacheBlobs } from '../../src/store/cache-blobs.js';
import { createJobStore } from '../../src/store/select.js';
import { SharedJobStore } from '../../src/store/shared.js';
import { backendIds, startActionsService, withRunnerEnv, type ActionsService } from '../helpers/actions-service.js';
import { FakeConnection, FakeLog, FakeTaskClient } from '../unit/fakes.js';

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
  /** Runs `fn` as one step of the job: its calls of the store run side by side (each call above runs alone). */
  together<T>(fn: (store: JobStore) => Promise<T>): Promise<T>;
}

interface ContractSubject {
  /** Where records go beyond the runner's disk. */
  backend: 'local' | 'cache' | 'artifact';
  /** Keeps the runner's copy (a state-dir): changes by writers on one runner are serialised by its lock files. */
  runnerDisk: boolean;
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
    together: (fn) => inJob(env, () => fn(store)),
    description: store.description,
    get: (instance, jobId) => inJob(env, () => store.get(instance, jobId)),
    put: (record) => inJob(env, () => store.put(record)),
    update: (instance, jobId, mutate) => inJob(env, () => store.update(instance, jobId, mutate)),
    result: (record) => inJob(env, () => store.result(record)),
    latest: (instance) => inJob(env, () => store.latest(instance)),
    findByKey: (instance, jobKey) => inJob(env, () => store.findByKey(instance, jobKey)),
    claimKey: (instance, jobKey, seq, jobId) => inJob(env, () => store.claimKey(instance, jobKey, seq, jobId)),
    lastClaim: (instance, jobKey) => inJob(env, () => store.lastClaim(instance, jobKey)),
    list: (instance) => inJob(env, () => store.list(instance)),
    remove: (instance, jobId) => inJob(env, () => store.remove(instance, jobId)),
  };
}

/** The layered store exactly as a step builds it (`createJobStore`), for one `store` input. */
function layered(kind: 'local' | 'cache' | 'artifact'): ContractSubject {
  return {
    backend: kind,
    runnerDisk: true,
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
    runnerDisk: false,
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
        // Without a runner's copy there is no lock: a change is a new revision of the newest one read, and a
        // concurrent revision is reconciled by the shared store (an ended job stays ended).
        async update(instance, jobId, mutate) {
          const current = await shared.get(instance, jobId);
          const next = current === undefined ? undefined : mutate(current);
          return next === undefined ? current : shared.save(next);
        },
        result: (record) => shared.result(record),
        latest: (instance) => shared.latest(instance),
        findByKey: (instance, jobKey) => shared.findByKey(instance, jobKey),
        claimKey: (instance, jobKey, seq, jobId) => shared.claimKey(instance, jobKey, seq, jobId),
        lastClaim: (instance, jobKey) => shared.lastClaim(instance, jobKey),
        explainMissing: (instance, jobId) => shared.explainMissing(instance, jobId),
        // Write-once blobs cannot be enumerated or deleted: what the shared store can list is this run's newest job.
        list: async (instance) => {
          const newest = await shared.latest(instance);
          return newest === undefined ? [] : [newest];
        },
        remove: async () => false,
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
/** The same clock for commands: each reading is a moment later; sleeps are real. */
const testClock: Clock = { now: () => tick(1), sleep: systemClock.sleep };

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

/** The cache archive the library would make of blob `name`: its one file (`blobFile`) in a zstd-compressed tar. */
async function cacheArchive(name: string, content: string): Promise<Buffer> {
  const dir = await mkdtemp(path.join(root, 'archive-'));
  const { file } = blobFile(name);
  await writeFile(path.join(dir, file), content);
  execFileSync('tar', ['--posix', '-cf', 'cache.tzst', '-P', '--use-compress-program', 'zstd', file], { cwd: dir });
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
    // The blobs of one job share one version (same path, compression and cross-OS flag).
    const { group } = blobFile(name);
    const version = service.state.cacheEntries.find((e) => e.key.startsWith(`${group}~`) && e.finalized)!.version;
    const bytes = await cacheArchive(name, JSON.stringify(record));
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

    if (subject.sharedAcrossJobs) {
      it('a fan-in in another job reads many records at once, each the right one', async () => {
        const run = newRun();
        const writer = await subject.open({ runId: run, job: 'a' });
        const jobs: JobRecord[] = [];
        for (let i = 0; i < 6; i++) {
          const job = await submitted(writer);
          if (i % 2 === 0) jobs.push(job);
          else {
            const ended = completed(job);
            await writer.put(ended);
            jobs.push(ended);
          }
        }
        const reader = await subject.open({ runId: run, job: 'b' });
        const from = service.state.requests.length;
        const read = await reader.together((store) => Promise.all(jobs.map((job) => store.get('default', job.jobId))));
        expect(read).toEqual(jobs);
        const routes = service.state.requests.slice(from).map((request) => request.route);
        if (subject.backend === 'cache') {
          // The lookups of several jobs reached the service before the first record was downloaded.
          const lookups = routes.slice(0, routes.indexOf('blob:GET'));
          expect(lookups.filter((route) => route.endsWith('GetCacheEntryDownloadURL')).length).toBeGreaterThan(1);
        } else if (name.startsWith('SharedJobStore')) {
          // The six lookups, made together, shared one listing of the run's artifacts (each download lists once
          // more: the library looks the artifact's ID up).
          expect(routes.filter((route) => route.endsWith('ListArtifacts'))).toHaveLength(1 + jobs.length);
        }
        expect([...writer.warnings, ...reader.warnings]).toEqual([]);
      });
    }

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

    it('update changes the record as stored and returns it; no change writes nothing; no job, no call', async () => {
      const run = newRun();
      const store = await subject.open({ runId: run, job: 'a' });
      const r2 = await submitted(store);
      // Another writer moved the job on since this caller read it.
      const r3 = inputRequired(r2);
      await store.put(r3);
      let seen: JobRecord | undefined;
      const r4 = await store.update('default', r2.jobId, (current) => {
        seen = current;
        return next(current, { status: 'running', remoteStatus: 'working', statusMessage: 'answered' });
      });
      expect(seen).toEqual(r3);
      expect(r4).toMatchObject({ status: 'running', statusMessage: 'answered', revision: 4 });
      expect(await store.get('default', r2.jobId)).toEqual(r4);
      expect(await store.update('default', r2.jobId, () => undefined)).toEqual(r4);
      expect(await store.get('default', r2.jobId)).toEqual(r4);
      if (subject.sharedAcrossJobs) {
        const other = await subject.open({ runId: run, job: 'b' });
        expect(await other.get('default', r2.jobId)).toEqual(r4);
      }
      let called = false;
      const missing = await store.update('default', 'job_doesnotexist00000000', (current) => {
        called = true;
        return current;
      });
      expect(missing).toBeUndefined();
      expect(called).toBe(false);
      expect(store.warnings).toEqual([]);
    });

    it('several writers change a job at once: an end is final, and on one runner no change is lost', async () => {
      const run = newRun();
      // Steps of one job share its runner; without a runner copy, each writer is its own job.
      const peersOf = (i: number): Peer => ({ runId: run, job: subject.runnerDisk ? 'a' : `w${i}` });
      const writers = await Promise.all([0, 1, 2].map((i) => subject.open(peersOf(i))));
      const r2 = await submitted(writers[0]!);
      const changed: string[] = [];
      await Promise.all(
        writers.map(async (store, w) => {
          const ctx = { store, tasks: new FakeTaskClient(new FakeConnection()), clock: testClock, log: new FakeLog() };
          for (let i = 0; i < 4; i++) {
            const end = w === 0 && i === 1;
            const change: JobChange = end
              ? { status: 'completed', remoteStatus: 'completed', result: { content: [{ type: 'text', text: 'end' }] } }
              : { status: 'running', statusMessage: `writer ${w} change ${i}` };
            // Each writer goes on from its own first copy, as a step does.
            const applied = await record(ctx, r2, change);
            if (applied.changed) changed.push(end ? 'completed' : `writer ${w} change ${i}`);
            if (!end && changed.includes('completed')) expect(applied.record.status).toBe('completed');
          }
        }),
      );
      const readers = [...writers, await subject.open({ runId: run, job: 'reader' })];
      for (const reader of subject.sharedAcrossJobs ? readers : writers) {
        expect(await reader.get('default', r2.jobId)).toMatchObject({
          status: 'completed',
          result: { content: [{ type: 'text', text: 'end' }] },
        });
      }
      const final = (await writers[0]!.get('default', r2.jobId))!;
      expect(final.events.at(-1)?.status).toBe('completed');
      if (subject.runnerDisk) {
        expect(final.revision).toBe(r2.revision + changed.length);
        const names = final.events
          .slice(r2.events.length)
          .map((e) => (e.status === 'completed' ? 'completed' : e.message));
        expect(names).toEqual(changed);
      }
      expect(writers.flatMap((w) => w.warnings)).toEqual([]);
    });

    if (subject.runnerDisk) {
      it('list gives every job of the instance newest first; remove deletes a job and its large result', async () => {
        const run = newRun();
        const store = await subject.open({ runId: run, job: 'a' });
        expect(await store.list('default')).toEqual([]);
        const older = await submitted(store);
        const newer = await submitted(store);
        await submitted(store, { instance: 'elsewhere' });
        expect((await store.list('default')).map((r) => r.jobId)).toEqual([newer.jobId, older.jobId]);
        const big = completed(newer, 'x'.repeat(RESULT_INLINE_LIMIT_BYTES + 10));
        await store.put(big);
        const stored = (await store.get('default', newer.jobId))!;
        expect(stored.resultRef).toBeDefined();
        expect(await store.remove('default', newer.jobId)).toBe(true);
        expect(await store.remove('default', newer.jobId)).toBe(false);
        const dirs = await peerDirs({ runId: run, job: 'a' });
        await expect(
          stat(path.join(dirs.stateDir, 'instances', 'default', 'results', `${newer.jobId}.json`)),
        ).rejects.toThrow();
        expect((await store.list('default')).map((r) => r.jobId)).toEqual([older.jobId]);
        expect((await store.latest('default'))?.jobId).toBe(subject.backend === 'local' ? older.jobId : newer.jobId);
        expect(store.warnings).toEqual([]);
      });
    }

    it('a large result is kept beside the record, not in it, and read back through the store', async () => {
      const run = newRun();
      const peer = { runId: run, job: 'a' };
      const store = await subject.open(peer);
      const r2 = await submitted(store);
      // Random text: a compressed cache archive of an inlined result would still be large.
      const big = { content: [{ type: 'text', text: randomBytes(150 * 1024).toString('base64') }] };
      const ended = (await store.update('default', r2.jobId, (current) =>
        next(current, { status: 'completed', remoteStatus: 'completed', result: big }),
      ))!;
      expect(ended.result).toBeUndefined();
      expect(ended.resultRef?.bytes).toBeGreaterThan(RESULT_INLINE_LIMIT_BYTES);
      expect(await store.result(ended)).toEqual(big);
      const read = (await store.get('default', r2.jobId))!;
      expect(read).toMatchObject({ status: 'completed', resultRef: ended.resultRef });
      expect(read.result).toBeUndefined();
      expect(await store.result(read)).toEqual(big);
      if (subject.runnerDisk) {
        const file = path.join((await peerDirs(peer)).stateDir, 'instances', 'default', 'jobs', `${r2.jobId}.json`);
        expect((await stat(file)).size).toBeLessThan(RESULT_INLINE_LIMIT_BYTES / 8);
      }
      if (subject.sharedAcrossJobs) {
        const other = await subject.open({ runId: run, job: 'b' });
        const theirs = (await other.get('default', r2.jobId))!;
        expect(theirs).toMatchObject({ status: 'completed', resultRef: ended.resultRef });
        expect(await other.result(theirs)).toEqual(big);
        // Every shared revision is small; the result is one blob.
        const sizes =
          subject.backend === 'cache'
            ? service.state.cacheEntries.map((e) => ({ name: e.key, size: e.size ?? 0 }))
            : service.state.artifacts.map((a) => ({ name: a.name, size: a.size }));
        const revisions = sizes.filter((blob) => blob.name.includes(`~${r2.jobId}~r`));
        expect(revisions.length).toBeGreaterThan(0);
        for (const blob of revisions) expect(blob.size).toBeLessThan(RESULT_INLINE_LIMIT_BYTES / 8);
        expect(sizes.filter((blob) => blob.name.includes(`~${r2.jobId}~full-result~`))).toHaveLength(1);
      }
      expect(store.warnings).toEqual([]);
    });

    it('job-key turns: of concurrent claims of a turn exactly one wins; the last claim is the highest turn', async () => {
      const run = newRun();
      const stores = await Promise.all(
        [0, 1, 2, 3, 4].map((i) => subject.open({ runId: run, job: subject.sharedAcrossJobs ? `k${i}` : 'a' })),
      );
      const ids = stores.map(() => newJobId());
      expect(await stores[0]!.lastClaim('default', 'deploy')).toBeUndefined();
      const winners = await Promise.all(stores.map((store, i) => store.claimKey('default', 'deploy', 1, ids[i]!)));
      expect(new Set(winners).size).toBe(1);
      expect(ids).toContain(winners[0]);
      for (const store of stores)
        expect(await store.lastClaim('default', 'deploy')).toEqual({ seq: 1, jobId: winners[0] });
      // The next turn, once claimed, is the last; a claim of a taken turn names its winner.
      expect(await stores[3]!.claimKey('default', 'deploy', 2, ids[3]!)).toBe(ids[3]);
      expect(await stores[1]!.claimKey('default', 'deploy', 2, ids[1]!)).toBe(ids[3]);
      expect(await stores[0]!.lastClaim('default', 'deploy')).toEqual({ seq: 2, jobId: ids[3] });
      expect(await stores[0]!.lastClaim('default', 'deploy-2')).toBeUndefined();
      expect(await stores[0]!.lastClaim('elsewhere', 'deploy')).toBeUndefined();
      if (subject.sharedAcrossJobs) {
        const otherRun = await subject.open({ runId: newRun(), job: 'k0' });
        expect(await otherRun.lastClaim('default', 'deploy')).toBeUndefined();
      }
      expect(stores.flatMap((store) => store.warnings)).toEqual([]);
    });

    it('five concurrent submits with one job-key create one task; after it ended, five more create one more', async () => {
      const run = newRun();
      const stores = await Promise.all(
        [0, 1, 2, 3, 4].map((i) => subject.open({ runId: run, job: subject.sharedAcrossJobs ? `s${i}` : 'a' })),
      );
      const conn = new FakeConnection();
      conn.onSubmit = async () => {
        const taskId = `task-${conn.submitCalls.length}`;
        return { remote: remoteRef(taskId), task: { taskId, status: 'working' } };
      };
      const tasks = new FakeTaskClient(conn);
      const request = {
        instance: 'default',
        server: { url: 'http://mcp.test/mcp', headers: {} },
        tool: 'deploy',
        arguments: { service: 'api' },
        redact: [],
        jobKey: 'deploy-api',
      };
      const submitAll = () =>
        Promise.all(
          stores.map((store) => submitJob({ store, tasks, clock: systemClock, log: new FakeLog() }, request)),
        );

      const first = await submitAll();
      expect(conn.submitCalls).toHaveLength(1);
      expect(new Set(first.map((job) => job.jobId)).size).toBe(1);
      expect(first[0]).toMatchObject({ jobKey: 'deploy-api', status: 'running', remote: { taskId: 'task-1' } });

      await stores[0]!.update('default', first[0]!.jobId, (current) =>
        next(current, { status: 'completed', remoteStatus: 'completed', result: { content: [] } }),
      );
      const second = await submitAll();
      expect(conn.submitCalls).toHaveLength(2);
      expect(new Set(second.map((job) => job.jobId)).size).toBe(1);
      expect(second[0]!.jobId).not.toBe(first[0]!.jobId);
      expect(second[0]).toMatchObject({ jobKey: 'deploy-api', status: 'running', remote: { taskId: 'task-2' } });
      expect(stores.flatMap((store) => store.warnings)).toEqual([]);
    });

    if (subject.runnerDisk) {
      it('a damaged record, or one of a newer schema, of another job does not hide the others', async () => {
        const run = newRun();
        const peer = { runId: run, job: 'a' };
        const store = await subject.open(peer);
        const damaged = await submitted(store, { jobKey: 'k' });
        const newer = await submitted(store, { jobKey: 'k' });
        const good = await submitted(store, { jobKey: 'k' });
        const jobs = path.join((await peerDirs(peer)).stateDir, 'instances', 'default', 'jobs');
        await writeFile(path.join(jobs, `${damaged.jobId}.json`), '{"schemaVersion": 1, "jobId": ');
        await writeFile(path.join(jobs, `${newer.jobId}.json`), JSON.stringify({ ...newer, schemaVersion: 2 }));
        expect((await store.latest('default'))?.jobId).toBe(good.jobId);
        expect((await store.findByKey('default', 'k'))?.jobId).toBe(good.jobId);
        const warned = store.warnings.join('\n');
        expect(warned).toContain(path.join(jobs, `${damaged.jobId}.json`));
        expect(warned).toContain(path.join(jobs, `${newer.jobId}.json`));
        // Asked for by its ID, a bad record is an error naming its file.
        for (const bad of [damaged, newer]) {
          await expect(store.get('default', bad.jobId)).rejects.toMatchObject({
            code: 'RECORD_INVALID',
            path: path.join(jobs, `${bad.jobId}.json`),
          });
        }
      });
    }
  });
}

describeJobStoreContract('LayeredJobStore over the runner disk only (store: local)', () => layered('local'));
describeJobStoreContract('LayeredJobStore over the Actions cache (store: cache)', () => layered('cache'));
describeJobStoreContract('LayeredJobStore over workflow artifacts (store: artifact)', () => layered('artifact'));
describeJobStoreContract('SharedJobStore over the Actions cache', () => sharedDirect('cache'));
describeJobStoreContract('SharedJobStore over workflow artifacts', () => sharedDirect('artifact'));
