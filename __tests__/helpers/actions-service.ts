/**
 * Typed access to the local GitHub Actions results service (`__tests__/fixtures/actions-service.mjs`): the
 * twirp CacheService/ArtifactService plus an Azure-blob-compatible store, which the REAL `@actions/cache` (v2) and
 * `@actions/artifact` talk to. See the fixture's header comment for the rules it enforces.
 *
 * In-process use:
 *
 *   const service = await startActionsService();
 *   const env = service.runnerEnv({ runId: 7, jobId: 'build', ref: 'refs/heads/feature', workspace, temp });
 *   const { result, output } = await withRunnerEnv(env, () => cache.saveCache(['records'], 'rec-1'));
 *   await service.setFault('429');
 *   ...
 *   await service.close();
 *
 * `spawnActionsService()` runs the same service as its own node process (for tests whose own process is busy or
 * that must not share state); the fault and state then go through the control endpoint.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
// @ts-expect-error -- plain ESM JS fixture without type declarations; typed through ActionsServiceModule below.
import * as fixture from '../fixtures/actions-service.mjs';

export const ACTIONS_SERVICE_FIXTURE = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '..',
  'fixtures',
  'actions-service.mjs',
);
const EXIT_WITH_PARENT_PRELOAD = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '..',
  'fixtures',
  'exit-with-parent.mjs',
);

/**
 * Faults: `'429'` every twirp call answers 429 (optionally only the next `times` calls); `'read-only'` cache
 * creates are denied as for a read-only token; `'down'` refuses connections; `'up'` listens again; `null` clears.
 */
export type ActionsServiceFault = '429' | 'read-only' | 'down' | 'up' | null;

export interface RunnerIdentity {
  runId: string | number;
  jobId: string | number;
  /** The run's ref (cache write scope). Default `refs/heads/main`. */
  ref?: string;
  /** The repository's default branch (read-only cache scope). Default `refs/heads/main`. */
  defaultRef?: string;
  /** Cache scopes read-only (like untrusted triggers since 2026-06-26). */
  readOnly?: boolean;
  /** Explicit cache scopes (`permission`: 1 read, 2 write, 3 both), in search order; overrides ref/defaultRef. */
  cacheScopes?: { scope: string; permission: number }[];
  /** Token lifetime (default 6 h). */
  expiresInSeconds?: number;
  /** Sign with another key (to forge a token the service rejects). */
  signingKey?: string;
}

export interface RunnerEnvOptions extends RunnerIdentity {
  /** `GITHUB_WORKSPACE` (cache paths are relative to it; artifact downloads default to it). */
  workspace?: string;
  /** `RUNNER_TEMP` (cache archives are written there). */
  temp?: string;
  /** Use this token instead of minting one. */
  token?: string;
  repository?: string;
}

export interface CacheEntryState {
  id: number;
  key: string;
  version: string;
  /** The ref the entry was written from (`refs/heads/...`). */
  scope: string;
  /** Bytes of the archive; null until finalized. */
  size: number | null;
  finalized: boolean;
  /** ISO time of FinalizeCacheEntryUpload; null while in progress. */
  createdAt: string | null;
  reservedAt: string;
  lastAccessedAt: string;
}

export interface ArtifactState {
  id: number;
  /** `run_id` / `job_id` claims of the token that created it. */
  runId: string | null;
  jobId: string | null;
  workflowRunBackendId: string;
  workflowJobRunBackendId: string;
  name: string;
  size: number;
  /** `sha256:<hex>` once finalized. */
  digest: string | null;
  mimeType: string | null;
  finalized: boolean;
  deleted: boolean;
  createdAt: string;
  expiresAt: string;
}

export interface RequestLogEntry {
  method: string;
  /** `CacheService/CreateCacheEntry`, `ArtifactService/ListArtifacts`, `blob:PUT`, `blob:PUT:block`, `blob:GET`, ... */
  route: string;
  status: number;
  at: number;
}

export interface ActionsServiceSnapshot {
  fault: ActionsServiceFault;
  cacheEntries: CacheEntryState[];
  artifacts: ArtifactState[];
  requests: RequestLogEntry[];
}

export interface ActionsServiceState {
  readonly fault: ActionsServiceFault;
  /** Snapshots (copies) taken at each read. */
  readonly cacheEntries: CacheEntryState[];
  readonly artifacts: ArtifactState[];
  /** Every twirp and blob request so far, in arrival order. */
  readonly requests: RequestLogEntry[];
  snapshot(): ActionsServiceSnapshot;
}

export interface ActionsServiceOptions {
  /** Port to listen on (default 0: any free one). */
  port?: number;
  /** Clock in ms (for retention/expiry/eviction tests). Default `Date.now`. */
  now?: () => number;
  /** Lifetime of signed blob URLs (default 1 h). */
  signedUrlTtlMs?: number;
  /** Artifact retention when CreateArtifact has no `expires_at` (default 90). */
  defaultRetentionDays?: number;
  signingKey?: string;
}

export interface ActionsService {
  /** `http://127.0.0.1:<port>` (no trailing slash; `runnerEnv` adds it to ACTIONS_RESULTS_URL). */
  readonly url: string;
  readonly port: number;
  readonly state: ActionsServiceState;
  /** Applies a fault; resolves once it is in effect (for 'down': the listener is closed). */
  setFault(fault: ActionsServiceFault, options?: { times?: number }): Promise<void>;
  /** Drops every cache entry, artifact, blob and logged request, and clears a fault other than 'down'. */
  reset(): void;
  /** A signed blob URL, for tests of the blob store itself (`permissions`: 'r', 'cw'; `expiresAt` in ms). */
  signBlobUrl(
    container: string,
    name: string | number,
    options?: { permissions?: string; expiresAt?: number; contentDisposition?: string; contentType?: string },
  ): string;
  /** The env a node action sees on a runner for this identity and this service. */
  runnerEnv(options: RunnerEnvOptions): Record<string, string>;
  mintRuntimeToken(identity: RunnerIdentity): string;
  close(): Promise<void>;
}

interface ActionsServiceModule {
  TEST_SIGNING_KEY: string;
  DEFAULT_BRANCH_REF: string;
  startActionsService(options?: ActionsServiceOptions): Promise<ActionsService>;
  mintRuntimeToken(identity: RunnerIdentity & { now?: number }): string;
  verifyRuntimeToken(
    token: string,
    options?: { signingKey?: string; now?: number },
  ): {
    claims: Record<string, unknown>;
    run: { runBackendId: string; jobBackendId: string } | null;
    cacheScopes: { scope: string; permission: number }[];
  };
  backendIds(identity: { runId: string | number; jobId: string | number }): {
    workflowRunBackendId: string;
    workflowJobRunBackendId: string;
  };
  runnerEnv(options: RunnerEnvOptions & { url: string }): Record<string, string>;
}

const impl = fixture as unknown as ActionsServiceModule;

export const TEST_SIGNING_KEY: string = impl.TEST_SIGNING_KEY;
export const DEFAULT_BRANCH_REF: string = impl.DEFAULT_BRANCH_REF;
export const startActionsService: (options?: ActionsServiceOptions) => Promise<ActionsService> =
  impl.startActionsService;
/** An HS256 JWT shaped like ACTIONS_RUNTIME_TOKEN (`scp` with Actions.Results ids, `ac` with cache scopes). */
export const mintRuntimeToken: (identity: RunnerIdentity) => string = impl.mintRuntimeToken;
export const verifyRuntimeToken = impl.verifyRuntimeToken;
/** The workflow run/job backend ids (UUIDs) the artifact library reads from such a token. */
export const backendIds = impl.backendIds;
/** The runner env for `url` (the service's base URL) and this identity. */
export const runnerEnv: (options: RunnerEnvOptions & { url: string }) => Record<string, string> = impl.runnerEnv;

/** Every variable `runnerEnv` may set; `withRunnerEnv` clears the ones an env does not set. */
export const RUNNER_ENV_KEYS = [
  'ACTIONS_RESULTS_URL',
  'ACTIONS_RUNTIME_TOKEN',
  'ACTIONS_CACHE_SERVICE_V2',
  'ACTIONS_CACHE_URL',
  'ACTIONS_CACHE_MODE',
  'GITHUB_ACTIONS',
  'GITHUB_SERVER_URL',
  'GITHUB_REPOSITORY',
  'GITHUB_REF',
  'GITHUB_REF_NAME',
  'GITHUB_RUN_ID',
  'GITHUB_RUN_ATTEMPT',
  'GITHUB_JOB',
  'GITHUB_WORKSPACE',
  'RUNNER_TEMP',
] as const;

export interface RunnerCallResult<T> {
  /** The call's value when it resolved. */
  result?: T;
  /** What it threw or rejected with, if it did. */
  error?: unknown;
  /** Everything written to stdout during the call (the libraries log through @actions/core: `::warning::` etc.). */
  output: string;
}

let envLock: Promise<void> = Promise.resolve();

/**
 * Runs `fn` like a step of a job on a runner: `env` applied to process.env (other runner variables removed), the
 * working directory set to `options.cwd` or else `env.GITHUB_WORKSPACE` (as the runner does; @actions/cache globs
 * its paths relative to the cwd), stdout captured; all three restored afterwards. The libraries read their
 * configuration from process.env at call time, so calls for different jobs/branches can run one after another in one
 * process. Calls are serialized (process.env and the cwd are global); never throws.
 */
export async function withRunnerEnv<T>(
  env: Record<string, string>,
  fn: () => Promise<T>,
  options: { cwd?: string } = {},
): Promise<RunnerCallResult<T>> {
  const previous = envLock;
  let release!: () => void;
  envLock = new Promise((resolve) => (release = resolve));
  await previous;
  const savedCwd = process.cwd();
  const cwd = options.cwd ?? env.GITHUB_WORKSPACE;
  const saved = new Map<string, string | undefined>();
  for (const key of new Set([...RUNNER_ENV_KEYS, ...Object.keys(env)])) {
    saved.set(key, process.env[key]);
    if (key in env) process.env[key] = env[key];
    else delete process.env[key];
  }
  const chunks: string[] = [];
  const originalWrite = process.stdout.write;
  process.stdout.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
    chunks.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
    const callback = rest.find((arg) => typeof arg === 'function') as (() => void) | undefined;
    callback?.();
    return true;
  }) as typeof process.stdout.write;
  try {
    if (cwd) process.chdir(cwd);
    const result = await fn();
    return { result, output: chunks.join('') };
  } catch (error) {
    return { error, output: chunks.join('') };
  } finally {
    process.stdout.write = originalWrite;
    process.chdir(savedCwd);
    for (const [key, value] of saved) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
    release();
  }
}

// ---------------------------------------------------------------------------------------------
// As a separate process
// ---------------------------------------------------------------------------------------------

export interface ActionsServiceProcess {
  readonly url: string;
  readonly port: number;
  /** Base URL of the control listener (stays up while the service is 'down'). */
  readonly controlUrl: string;
  readonly process: ChildProcess;
  setFault(fault: ActionsServiceFault, options?: { times?: number }): Promise<void>;
  state(): Promise<ActionsServiceSnapshot>;
  reset(): Promise<void>;
  runnerEnv(options: RunnerEnvOptions): Record<string, string>;
  /** SIGTERM, then SIGKILL after 3 s; resolves when the process exited. */
  stop(): Promise<void>;
}

/** Starts the service as `node actions-service.mjs` (exits with the test process via its stdin pipe). */
export async function spawnActionsService(options: { startTimeoutMs?: number } = {}): Promise<ActionsServiceProcess> {
  const child = spawn(process.execPath, ['--import', EXIT_WITH_PARENT_PRELOAD, ACTIONS_SERVICE_FIXTURE], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const ports = await new Promise<{ port: number; controlPort: number }>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`actions service did not start: ${out}${err}`)),
      options.startTimeoutMs ?? 15_000,
    );
    const check = () => {
      const m = /LISTENING (\d+)\s+CONTROL (\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ port: Number(m[1]), controlPort: Number(m[2]) });
      }
    };
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString('utf8');
      check();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      err += chunk.toString('utf8');
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`actions service exited with ${code}: ${err}`));
    });
  });
  const url = `http://127.0.0.1:${ports.port}`;
  const controlUrl = `http://127.0.0.1:${ports.controlPort}`;
  const control = async (route: string, body?: unknown): Promise<unknown> => {
    const response = await fetch(`${controlUrl}/_control/${route}`, {
      method: body === undefined ? 'GET' : 'POST',
      headers: { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (!response.ok) throw new Error(`control ${route}: HTTP ${response.status} ${await response.text()}`);
    return response.json();
  };
  return {
    url,
    port: ports.port,
    controlUrl,
    process: child,
    async setFault(fault, faultOptions) {
      await control('fault', { fault, ...faultOptions });
      // The control call answers before the fault is applied: wait until the state reports it.
      const want = fault === 'up' ? null : fault;
      for (let i = 0; i < 100; i++) {
        const snapshot = (await control('state')) as ActionsServiceSnapshot;
        if (snapshot.fault === want) return;
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      throw new Error(`fault ${String(fault)} was not applied`);
    },
    state: async () => (await control('state')) as ActionsServiceSnapshot,
    reset: async () => {
      await control('reset', {});
    },
    runnerEnv: (identity) => runnerEnv({ ...identity, url }),
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(timer);
    },
  };
}
