/**
 * The local Actions results service (`__tests__/fixtures/actions-service.mjs`) driven by the REAL `@actions/cache`
 * (v2 protocol) and `@actions/artifact`. These tests pin both the service's rules and how the libraries surface
 * each outcome (return value vs throw, and the message), which the product code relies on.
 */
import crypto from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import * as cache from '@actions/cache';
import { ArtifactNotFoundError, DefaultArtifactClient } from '@actions/artifact';
import {
  startActionsService,
  spawnActionsService,
  withRunnerEnv,
  type ActionsService,
  type RunnerEnvOptions,
} from '../helpers/actions-service.js';

const CACHE = 'github.actions.results.api.v1.CacheService';
const PATHS = ['records'];

let service: ActionsService;
let root: string;
let jobSeq = 0;

interface Job {
  env: Record<string, string>;
  workspace: string;
  temp: string;
}

async function newJob(
  identity: RunnerEnvOptions,
  svc: { runnerEnv(o: RunnerEnvOptions): Record<string, string> } = service,
): Promise<Job> {
  const dir = path.join(root, `job-${++jobSeq}`);
  const workspace = path.join(dir, 'workspace');
  const temp = path.join(dir, 'temp');
  await fs.mkdir(workspace, { recursive: true });
  await fs.mkdir(temp, { recursive: true });
  return { env: svc.runnerEnv({ ...identity, workspace, temp }), workspace, temp };
}

async function writeRecord(job: Job, content: string): Promise<void> {
  await fs.mkdir(path.join(job.workspace, 'records'), { recursive: true });
  await fs.writeFile(path.join(job.workspace, 'records', 'record.json'), content);
}

async function readRecord(job: Job): Promise<string | null> {
  try {
    return await fs.readFile(path.join(job.workspace, 'records', 'record.json'), 'utf8');
  } catch {
    return null;
  }
}

const save = (job: Job, key: string, paths = PATHS) => withRunnerEnv(job.env, () => cache.saveCache(paths, key));
const restore = (job: Job, key: string, restoreKeys: string[] = [], paths = PATHS) =>
  withRunnerEnv(job.env, () => cache.restoreCache(paths, key, restoreKeys));
const artifacts = (job: Job) => ({
  call: <T>(fn: (client: DefaultArtifactClient) => Promise<T>) =>
    withRunnerEnv(job.env, () => fn(new DefaultArtifactClient())),
});

async function saveRecord(job: Job, key: string, content: string): Promise<number> {
  await writeRecord(job, content);
  const { result, error, output } = await save(job, key);
  if (error) throw error;
  if (result === undefined || result <= 0) throw new Error(`save of ${key} failed: ${output}`);
  return result;
}

async function twirpCall(method: string, body: unknown, token?: string): Promise<{ status: number; json: any }> {
  const response = await fetch(`${service.url}/twirp/${CACHE}/${method}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  });
  return { status: response.status, json: await response.json() };
}

beforeAll(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'actions-service-'));
  service = await startActionsService();
});

afterAll(async () => {
  await service?.close();
  if (root) await fs.rm(root, { recursive: true, force: true });
});

afterEach(async () => {
  await service.setFault(null);
});

describe('cache (@actions/cache 6.3, service v2)', () => {
  test('isFeatureAvailable follows ACTIONS_RESULTS_URL when ACTIONS_CACHE_SERVICE_V2 is set', async () => {
    const job = await newJob({ runId: 1, jobId: 'a' });
    expect((await withRunnerEnv(job.env, async () => cache.isFeatureAvailable())).result).toBe(true);
    const { ACTIONS_RESULTS_URL: _url, ...withoutUrl } = job.env;
    expect((await withRunnerEnv(withoutUrl, async () => cache.isFeatureAvailable())).result).toBe(false);
  });

  test('save then restore in another job round-trips the files', async () => {
    const writer = await newJob({ runId: 10, jobId: 'writer' });
    const before = service.state.requests.length;
    const id = await saveRecord(writer, 'rt-1', '{"v":1}');
    const [entry] = service.state.cacheEntries.filter((e) => e.key === 'rt-1');
    expect(entry).toMatchObject({ id, scope: 'refs/heads/main', finalized: true });
    expect(entry.version).toMatch(/^[0-9a-f]{64}$/);
    expect(entry.size).toBeGreaterThan(0);

    const reader = await newJob({ runId: 11, jobId: 'reader' });
    const { result, output } = await restore(reader, 'rt-1');
    expect(result).toBe('rt-1');
    expect(output).toContain('Cache restored successfully');
    expect(await readRecord(reader)).toBe('{"v":1}');
    // The cache library uploads small archives in one PUT and downloads with a plain GET.
    expect(service.state.requests.slice(before).map((r) => `${r.route} ${r.status}`)).toEqual([
      'CacheService/CreateCacheEntry 200',
      'blob:PUT 201',
      'CacheService/FinalizeCacheEntryUpload 200',
      'CacheService/GetCacheEntryDownloadURL 200',
      'blob:GET 200',
    ]);
  });

  test('a key is immutable: a second save returns -1 without throwing and the first content stays', async () => {
    const first = await newJob({ runId: 20, jobId: 'a' });
    await saveRecord(first, 'imm-1', 'first');
    const second = await newJob({ runId: 21, jobId: 'b' });
    await writeRecord(second, 'second');
    const { result, error, output } = await save(second, 'imm-1');
    expect(error).toBeUndefined();
    expect(result).toBe(-1);
    expect(output).toContain(
      'Failed to save: Unable to reserve cache with key imm-1, another job may be creating this cache.',
    );
    expect(output).toContain(
      'Failed to CreateCacheEntry: Received non-retryable error: Failed request: (409) Conflict: cache entry with the same key, version, and scope already exists',
    );
    expect(service.state.cacheEntries.filter((e) => e.key === 'imm-1')).toHaveLength(1);

    const reader = await newJob({ runId: 22, jobId: 'c' });
    expect((await restore(reader, 'imm-1')).result).toBe('imm-1');
    expect(await readRecord(reader)).toBe('first');
  });

  test('an entry is visible only after finalize; in-progress and finalized keys both conflict', async () => {
    const token = service.mintRuntimeToken({ runId: 30, jobId: 'raw' });
    const req = { key: 'raw-1', version: 'v1' };
    const created = await twirpCall('CreateCacheEntry', req, token);
    expect(created).toMatchObject({ status: 200, json: { ok: true } });
    expect((await twirpCall('GetCacheEntryDownloadURL', req, token)).json.ok).toBe(false);
    expect(await twirpCall('CreateCacheEntry', req, token)).toMatchObject({
      status: 409,
      json: { code: 'already_exists', msg: 'cache entry with the same key, version, and scope already exists' },
    });
    expect((await twirpCall('FinalizeCacheEntryUpload', { ...req, size_bytes: '5' }, token)).status).toBe(412);

    const put = await fetch(created.json.signed_upload_url, {
      method: 'PUT',
      headers: { 'x-ms-blob-type': 'BlockBlob' },
      body: 'hello',
    });
    expect(put.status).toBe(201);
    expect((await twirpCall('FinalizeCacheEntryUpload', { ...req, size_bytes: '4' }, token)).status).toBe(400);
    expect(await twirpCall('FinalizeCacheEntryUpload', { ...req, size_bytes: '5' }, token)).toMatchObject({
      status: 200,
      json: { ok: true },
    });
    const found = await twirpCall('GetCacheEntryDownloadURL', { ...req, restore_keys: [] }, token);
    expect(found.json).toMatchObject({ ok: true, matched_key: 'raw-1' });
    expect(await (await fetch(found.json.signed_download_url)).text()).toBe('hello');
    expect((await twirpCall('CreateCacheEntry', req, token)).status).toBe(409);
    // The upload URL of a finalized entry cannot change its content.
    const again = await fetch(created.json.signed_upload_url, {
      method: 'PUT',
      headers: { 'x-ms-blob-type': 'BlockBlob' },
      body: 'other',
    });
    expect(again.status).toBe(409);
  });

  test('restore: exact key first, else the newest prefix match of the key, then of each restore key', async () => {
    const job = await newJob({ runId: 40, jobId: 'a' });
    await saveRecord(job, 'pfx-a-1', 'a1');
    await saveRecord(job, 'pfx-a-2', 'a2');
    await saveRecord(job, 'pfx-b-1', 'b1');
    const reader = await newJob({ runId: 41, jobId: 'b' });
    expect((await restore(reader, 'pfx-a-')).result).toBe('pfx-a-2');
    expect(await readRecord(reader)).toBe('a2');
    expect((await restore(reader, 'pfx-a-1')).result).toBe('pfx-a-1');
    expect(await readRecord(reader)).toBe('a1');
    expect((await restore(reader, 'pfx-c', ['pfx-'])).result).toBe('pfx-b-1');
    expect((await restore(reader, 'pfx-c', ['zzz', 'pfx-a', 'pfx-'])).result).toBe('pfx-a-2');
    expect((await restore(reader, 'pfx-c', ['zzz'])).result).toBeUndefined();
  });

  test('newest is by finalize order even within one millisecond (monotonic counter)', async () => {
    const token = service.mintRuntimeToken({ runId: 42, jobId: 'raw' });
    for (const key of ['ms-3', 'ms-1', 'ms-2']) {
      const created = await twirpCall('CreateCacheEntry', { key, version: 'v' }, token);
      await fetch(created.json.signed_upload_url, {
        method: 'PUT',
        headers: { 'x-ms-blob-type': 'BlockBlob' },
        body: key,
      });
      await twirpCall('FinalizeCacheEntryUpload', { key, version: 'v', size_bytes: '4' }, token);
    }
    const found = await twirpCall('GetCacheEntryDownloadURL', { key: 'ms-', version: 'v' }, token);
    expect(found.json.matched_key).toBe('ms-2');
  });

  test('an entry matches only the same version (paths list and compression)', async () => {
    const job = await newJob({ runId: 50, jobId: 'a' });
    await saveRecord(job, 'ver-1', 'x');
    const reader = await newJob({ runId: 51, jobId: 'b' });
    expect((await restore(reader, 'ver-1', [], ['records', 'other'])).result).toBeUndefined();
    expect((await restore(reader, 'ver-1', [], ['records'])).result).toBe('ver-1');
    // Same key with another paths list is another version: a new entry, no conflict.
    await fs.mkdir(path.join(job.workspace, 'other'), { recursive: true });
    expect((await save(job, 'ver-1', ['records', 'other'])).result).toBeGreaterThan(0);
    const versions = service.state.cacheEntries.filter((e) => e.key === 'ver-1').map((e) => e.version);
    expect(new Set(versions).size).toBe(2);
  });

  test('scope: a branch sees its own entries and the default branch, never another branch', async () => {
    const featureA = await newJob({ runId: 60, jobId: 'a', ref: 'refs/heads/feature-a' });
    const featureB = await newJob({ runId: 61, jobId: 'b', ref: 'refs/heads/feature-b' });
    const main = await newJob({ runId: 62, jobId: 'm', ref: 'refs/heads/main' });
    await saveRecord(featureA, 'scope-x-feature', 'feature-a');
    expect(service.state.cacheEntries.find((e) => e.key === 'scope-x-feature')?.scope).toBe('refs/heads/feature-a');
    expect((await restore(featureB, 'scope-x-')).result).toBeUndefined();
    expect((await restore(main, 'scope-x-')).result).toBeUndefined();
    expect((await restore(featureA, 'scope-x-')).result).toBe('scope-x-feature');

    await saveRecord(main, 'scope-x-main', 'main');
    expect((await restore(featureB, 'scope-x-')).result).toBe('scope-x-main');
    expect(await readRecord(featureB)).toBe('main');
    // The run's own branch is searched before the default branch, even when the default branch's entry is newer.
    expect((await restore(featureA, 'scope-x-')).result).toBe('scope-x-feature');
    expect((await restore(main, 'scope-x-')).result).toBe('scope-x-main');
    // Immutability is per scope: another branch may write a key that exists on main.
    expect((await save(featureB, 'scope-x-main')).result).toBeGreaterThan(0);
  });

  test('429: saveCache returns -1 and restoreCache returns undefined, without retrying or throwing', async () => {
    const job = await newJob({ runId: 70, jobId: 'a' });
    await saveRecord(job, 'rate-1', 'r');
    await service.setFault('429');
    const before = service.state.requests.length;
    await writeRecord(job, 'r2');
    const saved = await save(job, 'rate-2');
    expect(saved.error).toBeUndefined();
    expect(saved.result).toBe(-1);
    expect(saved.output).toContain(
      'Failed to save: Unable to reserve cache with key rate-2, another job may be creating this cache.',
    );
    expect(saved.output).toContain(
      'Failed to CreateCacheEntry: Rate limited: Failed request: (429) Too Many Requests: rate limit exceeded',
    );
    expect(saved.output).toContain("You've hit a rate limit, your rate limit will reset in 60 seconds");
    const restored = await restore(job, 'rate-1');
    expect(restored.error).toBeUndefined();
    expect(restored.result).toBeUndefined();
    expect(restored.output).toContain(
      '::warning::Failed to restore: Failed to GetCacheEntryDownloadURL: Rate limited: Failed request: (429) Too Many Requests: rate limit exceeded',
    );
    const twirpCalls = service.state.requests.slice(before).filter((r) => r.route.startsWith('CacheService/'));
    expect(twirpCalls.map((r) => [r.route, r.status])).toEqual([
      ['CacheService/CreateCacheEntry', 429],
      ['CacheService/GetCacheEntryDownloadURL', 429],
    ]);
  });

  test('read-only token: save returns -1 (CacheWriteDeniedError, logged as a warning), restore still works', async () => {
    const writer = await newJob({ runId: 80, jobId: 'a' });
    await saveRecord(writer, 'ro-1', 'ro');
    const readOnly = await newJob({ runId: 81, jobId: 'b', readOnly: true });
    await writeRecord(readOnly, 'denied');
    const saved = await save(readOnly, 'ro-2');
    expect(saved.error).toBeUndefined();
    expect(saved.result).toBe(-1);
    expect(saved.output).toContain(
      '::warning::Failed to save: Unable to reserve cache with key ro-2. More details: cache write denied: token has no writable scopes',
    );
    expect(service.state.cacheEntries.some((e) => e.key === 'ro-2')).toBe(false);
    const reader = await newJob({ runId: 82, jobId: 'c', readOnly: true });
    expect((await restore(reader, 'ro-1')).result).toBe('ro-1');

    // The 'read-only' fault answers the same for a token that could write.
    await service.setFault('read-only');
    const faulted = await save(writer, 'ro-3');
    expect(faulted.result).toBe(-1);
    expect(faulted.output).toContain('cache write denied: token has no writable scopes');

    // A token without readable scopes: restore reports a miss (CacheReadDeniedError, warned).
    const noRead = await newJob({ runId: 83, jobId: 'd', cacheScopes: [] });
    const denied = await restore(noRead, 'ro-1');
    expect(denied.result).toBeUndefined();
    expect(denied.output).toContain(
      '::warning::Failed to restore: Failed to GetCacheEntryDownloadURL: Received non-retryable error: Failed request: (403) Forbidden: cache read denied: token has no readable scopes',
    );
  });

  test('down: save returns -1 and restore returns undefined (NetworkError, not thrown); up again works', async () => {
    const job = await newJob({ runId: 90, jobId: 'a' });
    await saveRecord(job, 'down-1', 'd');
    await service.setFault('down');
    await writeRecord(job, 'd2');
    const saved = await save(job, 'down-2');
    expect(saved.error).toBeUndefined();
    expect(saved.result).toBe(-1);
    expect(saved.output).toContain('Failed to CreateCacheEntry: Unable to make request: ECONNREFUSED');
    const restored = await restore(job, 'down-1');
    expect(restored.error).toBeUndefined();
    expect(restored.result).toBeUndefined();
    expect(restored.output).toContain(
      '::warning::Failed to restore: Failed to GetCacheEntryDownloadURL: Unable to make request: ECONNREFUSED',
    );
    const listed = await artifacts(job).call((c) => c.listArtifacts());
    expect((listed.error as Error).message).toMatch(/^Failed to ListArtifacts: Unable to make request: ECONNREFUSED/);

    await service.setFault('up');
    expect((await restore(job, 'down-1')).result).toBe('down-1');
    expect((await save(job, 'down-2')).result).toBeGreaterThan(0);
  });

  test('authentication: twirp calls need a valid bearer runtime token (401 otherwise)', async () => {
    const body = { key: 'auth-1', version: 'v' };
    expect(await twirpCall('CreateCacheEntry', body)).toMatchObject({
      status: 401,
      json: { code: 'unauthenticated', msg: 'missing bearer token' },
    });
    const forged = service.mintRuntimeToken({ runId: 1, jobId: 'x', signingKey: 'not-the-key' });
    expect((await twirpCall('CreateCacheEntry', body, forged)).json.msg).toBe('invalid token signature');
    const expired = service.mintRuntimeToken({ runId: 1, jobId: 'x', expiresInSeconds: -10 });
    expect((await twirpCall('CreateCacheEntry', body, expired)).json.msg).toBe('token expired');

    const job = await newJob({ runId: 95, jobId: 'a', token: forged });
    await writeRecord(job, 'x');
    const saved = await save(job, 'auth-1');
    expect(saved.result).toBe(-1);
    expect(saved.output).toContain('(401) Unauthorized: invalid token signature');
  });
});

describe('blob store', () => {
  async function uploadSlot(): Promise<{ id: number; uploadUrl: string }> {
    const token = service.mintRuntimeToken({ runId: 100, jobId: 'blob' });
    const key = `blob-${crypto.randomUUID()}`;
    const created = await twirpCall('CreateCacheEntry', { key, version: 'v' }, token);
    const id = Number(new URL(created.json.signed_upload_url).pathname.split('/').pop());
    return { id, uploadUrl: created.json.signed_upload_url };
  }

  const withQuery = (url: string, extra: Record<string, string>) => {
    const u = new URL(url);
    for (const [k, v] of Object.entries(extra)) u.searchParams.set(k, v);
    return u.toString();
  };

  test('rejects unsigned, forged, expired and under-privileged URLs with 403', async () => {
    const { id, uploadUrl } = await uploadSlot();
    const put = (url: string) => fetch(url, { method: 'PUT', headers: { 'x-ms-blob-type': 'BlockBlob' }, body: 'x' });
    const unsigned = await put(`${service.url}/blob/cache/${id}`);
    expect([unsigned.status, unsigned.headers.get('x-ms-error-code')]).toEqual([403, 'AuthenticationFailed']);
    expect((await put(withQuery(uploadUrl, { sig: 'AAAA' }))).status).toBe(403);
    expect((await put(withQuery(uploadUrl, { se: '2099-01-01T00:00:00Z' }))).status).toBe(403);
    expect((await put(uploadUrl.replace(`/cache/${id}`, `/cache/${id + 1}`))).status).toBe(403);
    const expired = service.signBlobUrl('cache', id, { permissions: 'cw', expiresAt: Date.now() - 1000 });
    expect((await put(expired)).status).toBe(403);
    const readOnly = await put(service.signBlobUrl('cache', id, { permissions: 'r' }));
    expect([readOnly.status, readOnly.headers.get('x-ms-error-code')]).toEqual([
      403,
      'AuthorizationPermissionMismatch',
    ]);
    expect((await fetch(uploadUrl)).status).toBe(403); // a write URL cannot read
    expect((await put(uploadUrl)).status).toBe(201);
  });

  test('block upload + block list commit, then GET with Range and HEAD', async () => {
    const { id, uploadUrl } = await uploadSlot();
    const blockA = Buffer.from('block-A:').toString('base64');
    const blockB = Buffer.from('block-B:').toString('base64');
    for (const [blockid, body] of [
      [blockA, '0123456789'],
      [blockB, 'abcdef'],
    ]) {
      const staged = await fetch(withQuery(uploadUrl, { comp: 'block', blockid }), { method: 'PUT', body });
      expect(staged.status).toBe(201);
    }
    const read = service.signBlobUrl('cache', id, { permissions: 'r' });
    expect((await fetch(read)).status).toBe(404); // staged blocks are not a blob yet
    const badList = `<?xml version="1.0" encoding="utf-8"?><BlockList><Latest>${Buffer.from('nope').toString('base64')}</Latest></BlockList>`;
    expect((await fetch(withQuery(uploadUrl, { comp: 'blocklist' }), { method: 'PUT', body: badList })).status).toBe(
      400,
    );
    const list = `<?xml version="1.0" encoding="utf-8"?><BlockList><Latest>${blockB}</Latest><Latest>${blockA}</Latest></BlockList>`;
    const committed = await fetch(withQuery(uploadUrl, { comp: 'blocklist' }), {
      method: 'PUT',
      headers: { 'x-ms-blob-content-type': 'application/x-test' },
      body: list,
    });
    expect(committed.status).toBe(201);
    expect(committed.headers.get('etag')).toBeTruthy();

    const full = await fetch(read);
    expect([full.status, full.headers.get('content-type'), await full.text()]).toEqual([
      200,
      'application/x-test',
      'abcdef0123456789',
    ]);
    const range = await fetch(read, { headers: { range: 'bytes=2-5' } });
    expect([range.status, range.headers.get('content-range'), await range.text()]).toEqual([
      206,
      'bytes 2-5/16',
      'cdef',
    ]);
    const suffix = await fetch(read, { headers: { 'x-ms-range': 'bytes=-3' } });
    expect(await suffix.text()).toBe('789');
    expect((await fetch(read, { headers: { range: 'bytes=99-' } })).status).toBe(416);
    const head = await fetch(read, { method: 'HEAD' });
    expect([head.status, head.headers.get('content-length'), head.headers.get('x-ms-blob-type')]).toEqual([
      200,
      '16',
      'BlockBlob',
    ]);
    const missingType = await fetch(uploadUrl, { method: 'PUT', body: 'x' });
    expect([missingType.status, missingType.headers.get('x-ms-error-code')]).toEqual([400, 'MissingRequiredHeader']);
  });
});

describe('artifacts (@actions/artifact 6.2)', () => {
  async function recordFile(job: Job, name: string, bytes: Buffer): Promise<string> {
    const dir = path.join(job.workspace, 'out');
    await fs.mkdir(dir, { recursive: true });
    const file = path.join(dir, name);
    await fs.writeFile(file, bytes);
    return file;
  }

  test('single-file upload (skipArchive) is listed, found and downloaded byte-identical by another job of the run', async () => {
    const writer = await newJob({ runId: 1001, jobId: 'submit' });
    const before = service.state.requests.length;
    const bytes = crypto.randomBytes(3000);
    const file = await recordFile(writer, 'job-1.json', bytes);
    const uploaded = await artifacts(writer).call((c) =>
      c.uploadArtifact('ignored-with-skipArchive', [file], path.dirname(file), { retentionDays: 3, skipArchive: true }),
    );
    expect(uploaded.error).toBeUndefined();
    const { size, digest } = uploaded.result!;
    const id = uploaded.result!.id!;
    expect(size).toBe(3000);
    expect(digest).toBe(crypto.createHash('sha256').update(bytes).digest('hex'));
    const stored = service.state.artifacts.find((a) => a.id === id)!;
    // With skipArchive the artifact is named after the file, whatever name was passed.
    expect(stored).toMatchObject({
      name: 'job-1.json',
      runId: '1001',
      jobId: 'submit',
      size: 3000,
      mimeType: 'application/json',
      finalized: true,
    });
    const retentionMs = Date.parse(stored.expiresAt) - Date.now();
    expect(Math.abs(retentionMs - 3 * 24 * 3600 * 1000)).toBeLessThan(60_000);

    const reader = await newJob({ runId: 1001, jobId: 'wait' });
    const client = artifacts(reader);
    const listed = await client.call((c) => c.listArtifacts());
    expect(listed.result?.artifacts).toEqual([
      { name: 'job-1.json', id, size: 3000, createdAt: expect.any(Date), digest: `sha256:${digest}` },
    ]);
    const found = await client.call((c) => c.getArtifact('job-1.json'));
    expect(found.result?.artifact.id).toBe(id);
    const target = path.join(reader.workspace, 'download');
    const downloaded = await client.call((c) =>
      c.downloadArtifact(id, { path: target, expectedHash: `sha256:${digest}` }),
    );
    expect(downloaded.error).toBeUndefined();
    expect(downloaded.result).toEqual({ downloadPath: target, digestMismatch: false });
    expect((await fs.readFile(path.join(target, 'job-1.json'))).equals(bytes)).toBe(true);
    // The artifact library uploads with BlockBlobClient.uploadStream: staged blocks, then a block list.
    expect(service.state.requests.slice(before).map((r) => r.route)).toEqual([
      'ArtifactService/CreateArtifact',
      'blob:PUT:block',
      'blob:PUT:blocklist',
      'ArtifactService/FinalizeArtifact',
      'ArtifactService/ListArtifacts',
      'ArtifactService/ListArtifacts',
      'ArtifactService/ListArtifacts',
      'ArtifactService/GetSignedArtifactURL',
      'blob:GET',
    ]);
  });

  test('a zip artifact (no skipArchive) round-trips too', async () => {
    const writer = await newJob({ runId: 1002, jobId: 'a' });
    const a = await recordFile(writer, 'a.txt', Buffer.from('A'));
    const b = await recordFile(writer, 'b.txt', Buffer.from('B'));
    const uploaded = await artifacts(writer).call((c) => c.uploadArtifact('bundle', [a, b], path.dirname(a)));
    expect(uploaded.error).toBeUndefined();
    expect(service.state.artifacts.find((x) => x.id === uploaded.result!.id)?.mimeType).toBe('application/zip');
    const reader = await newJob({ runId: 1002, jobId: 'b' });
    const target = path.join(reader.workspace, 'bundle');
    await artifacts(reader).call((c) => c.downloadArtifact(uploaded.result!.id!, { path: target }));
    expect((await fs.readdir(target)).sort()).toEqual(['a.txt', 'b.txt']);
    expect(await fs.readFile(path.join(target, 'b.txt'), 'utf8')).toBe('B');
  });

  test('a name can be uploaded once per run; other runs do not see it; delete frees the name', async () => {
    const first = await newJob({ runId: 2001, jobId: 'a' });
    const file = await recordFile(first, 'rec.json', Buffer.from('{"n":1}'));
    const opts = { skipArchive: true, retentionDays: 1 };
    const up1 = await artifacts(first).call((c) => c.uploadArtifact('rec.json', [file], path.dirname(file), opts));
    expect(up1.error).toBeUndefined();

    const sibling = await newJob({ runId: 2001, jobId: 'b' });
    const file2 = await recordFile(sibling, 'rec.json', Buffer.from('{"n":2}'));
    const up2 = await artifacts(sibling).call((c) => c.uploadArtifact('rec.json', [file2], path.dirname(file2), opts));
    expect(up2.error).toBeInstanceOf(Error);
    expect((up2.error as Error).message).toBe(
      'Failed to CreateArtifact: Received non-retryable error: Failed request: (409) Conflict: an artifact with this name already exists on the workflow run',
    );
    expect(service.state.artifacts.filter((a) => a.name === 'rec.json' && a.runId === '2001')).toHaveLength(1);

    const otherRun = await newJob({ runId: 2002, jobId: 'a' });
    const other = artifacts(otherRun);
    expect((await other.call((c) => c.listArtifacts())).result?.artifacts).toEqual([]);
    const notFound = await other.call((c) => c.getArtifact('rec.json'));
    expect(notFound.error).toBeInstanceOf(ArtifactNotFoundError);
    const noDownload = await other.call((c) => c.downloadArtifact(up1.result!.id!, { path: otherRun.workspace }));
    expect(noDownload.error).toBeInstanceOf(ArtifactNotFoundError);
    expect((noDownload.error as Error).message).toMatch(/^No artifacts found for ID: \d+/);
    const otherFile = await recordFile(otherRun, 'rec.json', Buffer.from('{"n":3}'));
    const up3 = await other.call((c) => c.uploadArtifact('rec.json', [otherFile], path.dirname(otherFile), opts));
    expect(up3.error).toBeUndefined();

    const deleted = await artifacts(sibling).call((c) => c.deleteArtifact('rec.json'));
    expect(deleted.result).toEqual({ id: up1.result!.id });
    expect(service.state.artifacts.find((a) => a.id === up1.result!.id)?.deleted).toBe(true);
    expect((await artifacts(sibling).call((c) => c.listArtifacts())).result?.artifacts).toEqual([]);
    expect((await artifacts(sibling).call((c) => c.getArtifact('rec.json'))).error).toBeInstanceOf(
      ArtifactNotFoundError,
    );
    const deleteAgain = await artifacts(sibling).call((c) => c.deleteArtifact('rec.json'));
    expect(deleteAgain.error).toBeInstanceOf(ArtifactNotFoundError);
    const reupload = await artifacts(sibling).call((c) =>
      c.uploadArtifact('rec.json', [file2], path.dirname(file2), opts),
    );
    expect(reupload.result?.id).toBeGreaterThan(up1.result!.id!);
    // The other run's artifact of the same name is untouched.
    expect((await other.call((c) => c.listArtifacts())).result?.artifacts).toHaveLength(1);
  });

  test('429: the artifact client retries (3 s first backoff) and succeeds once the limit clears', async () => {
    const job = await newJob({ runId: 3001, jobId: 'a' });
    const file = await recordFile(job, 'rate.json', Buffer.from('{}'));
    await service.setFault('429', { times: 1 });
    const started = Date.now();
    const up = await artifacts(job).call((c) =>
      c.uploadArtifact('rate.json', [file], path.dirname(file), { skipArchive: true }),
    );
    expect(up.error).toBeUndefined();
    expect(Date.now() - started).toBeGreaterThanOrEqual(3000);
    expect(up.output).toContain(
      'Attempt 1 of 5 failed with error: Failed request: (429) Too Many Requests: rate limit exceeded. Retrying request in 3000 ms...',
    );
  });

  test('retention: an artifact past expires_at is no longer listed', async () => {
    let clock = Date.now();
    const timed = await startActionsService({ now: () => clock });
    try {
      const job = await newJob({ runId: 4001, jobId: 'a' }, timed);
      const file = await recordFile(job, 'short.json', Buffer.from('{}'));
      const up = await withRunnerEnv(job.env, () =>
        new DefaultArtifactClient().uploadArtifact('short.json', [file], path.dirname(file), {
          skipArchive: true,
          retentionDays: 1,
        }),
      );
      expect(up.error).toBeUndefined();
      const list = (env: Record<string, string>) =>
        withRunnerEnv(env, () => new DefaultArtifactClient().listArtifacts());
      expect((await list(job.env)).result?.artifacts).toHaveLength(1);
      expect(Math.abs(Date.parse(timed.state.artifacts[0].expiresAt) - (clock + 24 * 3600 * 1000))).toBeLessThan(
        60_000,
      );
      clock += 2 * 24 * 3600 * 1000;
      // The job's token has expired too (6 h): a later job of the same run lists nothing.
      expect((await list(job.env)).error).toBeDefined();
      const later = await newJob({ runId: 4001, jobId: 'b' }, timed);
      expect((await list(later.env)).result?.artifacts).toEqual([]);
    } finally {
      await timed.close();
    }
  });
});

describe('as a separate process', () => {
  test('serves the libraries and takes faults through the control listener', async () => {
    const proc = await spawnActionsService();
    try {
      const unauth = await fetch(`${proc.url}/twirp/${CACHE}/CreateCacheEntry`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{}',
      });
      expect(unauth.status).toBe(401);
      const job = await newJob({ runId: 5001, jobId: 'a' }, proc);
      await writeRecord(job, 'proc');
      expect((await save(job, 'proc-1')).result).toBeGreaterThan(0);
      expect((await proc.state()).cacheEntries.map((e) => e.key)).toEqual(['proc-1']);

      await proc.setFault('down');
      await expect(fetch(`${proc.url}/twirp/${CACHE}/CreateCacheEntry`, { method: 'POST' })).rejects.toThrow();
      expect((await restore(job, 'proc-1')).result).toBeUndefined();
      await proc.setFault('up');
      expect((await restore(job, 'proc-1')).result).toBe('proc-1');
      await proc.setFault('429');
      expect((await save(job, 'proc-2')).result).toBe(-1);
    } finally {
      await proc.stop();
    }
  });
});
