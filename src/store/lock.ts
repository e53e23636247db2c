/**
 * Exclusive lock files, for read-modify-write on the runner's disk. Steps of one job (a wait, the post step, a
 * cancel, several waits of a fan-in) run as separate processes on the same state-dir, so a change to a record is
 * made holding `<file>.lock`: created with O_EXCL (only one process can), holding the holder's pid, host and time.
 * Within a process, holders of one lock queue up instead of polling the file.
 *
 * A lock whose holder died (SIGKILL, a crash) is recovered: when its pid is gone on this host, or when it is older
 * than `staleMs` (a pid reused, or another host on a shared disk). Breaking a stale lock is itself done holding
 * `<lock>.break`, so two processes breaking the same stale lock cannot remove the fresh one a third just took.
 */
import { crypto } from '../core/lazy-crypto.js';
import { mkdir, readFile, rm, stat } from 'node:fs/promises';
import { hostname } from 'node:os';
import { dirname, resolve } from 'node:path';
import { JobError } from '../core/errors.js';
import { writeOwnerOnly } from './files.js';

export interface LockOptions {
  /** How long to wait for another holder before giving up with STORE_UNAVAILABLE. */
  timeoutMs: number;
  /** A lock older than this is taken to be left by a holder that died. */
  staleMs: number;
}

export const DEFAULT_LOCK_OPTIONS: LockOptions = { timeoutMs: 10_000, staleMs: 30_000 };

interface Holder {
  pid?: number;
  host?: string;
  at?: string;
  nonce?: string;
  /** When the file was last written: the age of a lock whose content is not (yet) readable. */
  mtimeMs: number;
  text: string;
}

const queues = new Map<string, Promise<unknown>>();
const sleep = (ms: number): Promise<void> => new Promise((done) => setTimeout(done, ms));

/** Runs `fn` holding the lock file `path`. */
export function withFileLock<T>(path: string, options: LockOptions, fn: () => Promise<T>): Promise<T> {
  const key = resolve(path);
  const previous = queues.get(key) ?? Promise.resolve();
  const run = previous.then(
    () => hold(key, options, fn),
    () => hold(key, options, fn),
  );
  const tail = run.catch(() => undefined);
  queues.set(key, tail);
  void tail.then(() => {
    if (queues.get(key) === tail) queues.delete(key);
  });
  return run;
}

async function hold<T>(path: string, options: LockOptions, fn: () => Promise<T>): Promise<T> {
  const nonce = await acquire(path, options);
  try {
    return await fn();
  } finally {
    await release(path, nonce);
  }
}

async function acquire(path: string, options: LockOptions): Promise<string> {
  const nonce = crypto().randomBytes(8).toString('hex');
  const deadline = Date.now() + options.timeoutMs;
  for (let delay = 2; ; delay = Math.min(delay * 2, 50)) {
    if (await tryCreate(path, nonce)) return nonce;
    const holder = await readHolder(path);
    // Released meanwhile: try again at once.
    if (holder === undefined) continue;
    if (isStale(holder, options.staleMs)) {
      await breakStale(path, holder, options);
      continue;
    }
    if (Date.now() >= deadline) {
      const who =
        holder.pid === undefined
          ? 'another process'
          : `process ${holder.pid}${holder.host ? ` on ${holder.host}` : ''}`;
      throw new JobError(
        'STORE_UNAVAILABLE',
        `The job record lock ${path} is held by ${who} since ${holder.at ?? new Date(holder.mtimeMs).toISOString()}; gave up after ${options.timeoutMs} ms. If no mcp-jobs step is running on this runner, delete ${path}`,
        { path, retryable: true },
      );
    }
    // Jittered, so waiters do not retry in lockstep.
    await sleep(delay + Math.random() * delay);
  }
}

/** Creates the lock file with O_EXCL; false when another holder has it. */
async function tryCreate(path: string, nonce: string): Promise<boolean> {
  const content = JSON.stringify({ pid: process.pid, host: hostname(), at: new Date().toISOString(), nonce });
  for (let attempt = 0; ; attempt++) {
    try {
      await writeOwnerOnly(path, content, { exclusive: true });
      return true;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'EEXIST') return false;
      if (code === 'ENOENT' && attempt === 0) {
        await mkdir(dirname(path), { recursive: true }).catch(() => undefined);
        continue;
      }
      throw new JobError('STORE_UNAVAILABLE', `Cannot create the lock file ${path}: ${(error as Error).message}`, {
        path,
        cause: error,
        retryable: false,
      });
    }
  }
}

async function readHolder(path: string): Promise<Holder | undefined> {
  try {
    const [text, info] = await Promise.all([readFile(path, 'utf8'), stat(path)]);
    let parsed: Partial<Holder> = {};
    try {
      const data: unknown = JSON.parse(text);
      if (data !== null && typeof data === 'object') parsed = data as Partial<Holder>;
    } catch {
      // Created but not written yet, or its writer died in between: judged by its age alone.
    }
    return {
      ...(typeof parsed.pid === 'number' ? { pid: parsed.pid } : {}),
      ...(typeof parsed.host === 'string' ? { host: parsed.host } : {}),
      ...(typeof parsed.at === 'string' ? { at: parsed.at } : {}),
      ...(typeof parsed.nonce === 'string' ? { nonce: parsed.nonce } : {}),
      mtimeMs: info.mtimeMs,
      text,
    };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new JobError('STORE_UNAVAILABLE', `Cannot read the lock file ${path}: ${(error as Error).message}`, {
      path,
      cause: error,
      retryable: false,
    });
  }
}

function isStale(holder: Holder, staleMs: number): boolean {
  if (holder.pid !== undefined && holder.host === hostname() && !isAlive(holder.pid)) return true;
  const since = holder.at === undefined ? holder.mtimeMs : Date.parse(holder.at);
  return !Number.isFinite(since) || Date.now() - since > staleMs;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists, as another user's process.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Removes a stale lock, unless it changed since it was judged stale (a new holder took it meanwhile). */
async function breakStale(path: string, stale: Holder, options: LockOptions): Promise<void> {
  const guard = `${path}.break`;
  const nonce = crypto().randomBytes(8).toString('hex');
  if (!(await tryCreate(guard, nonce))) {
    // Another process is breaking it. A guard left by one that died there is only ever held for an instant.
    const other = await readHolder(guard);
    if (other !== undefined && isStale(other, options.staleMs)) await rm(guard, { force: true });
    await sleep(2);
    return;
  }
  try {
    const now = await readHolder(path);
    if (now !== undefined && now.text === stale.text && now.mtimeMs === stale.mtimeMs) await rm(path, { force: true });
  } finally {
    await release(guard, nonce);
  }
}

/** Removes the lock if it is still ours (a holder too slow for `staleMs` may have lost it to another). */
async function release(path: string, nonce: string): Promise<void> {
  const holder = await readHolder(path).catch(() => undefined);
  if (holder?.nonce === nonce) await rm(path, { force: true });
}
