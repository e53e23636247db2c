/**
 * Revision blobs in the Actions cache (`@actions/cache`). Facts that shape this code (see the reference notes):
 * - a key can never be overwritten; `saveCache` returns -1 without throwing for a taken key, a 429, a read-only
 *   token or a service outage alike, so a -1 is told apart by looking the key up afterwards;
 * - an entry matches only with the same `paths` list (they are hashed into its version) and the archive holds paths
 *   relative to GITHUB_WORKSPACE (restore) and the working directory (save): every blob is one relative file,
 *   archived from and restored into a scratch directory that is, while cache calls run, both the working directory
 *   and GITHUB_WORKSPACE. The file is named after the blob's group (`blobFile`: the job, or the run's index), so
 *   calls for different jobs run side by side in the one scratch directory (a fan-in reads many records at once);
 *   calls for one group take turns.
 * - restore matches the exact key, else the newest entry whose key starts with it;
 * - failures are only logged: `saveCache` -1 and `restoreCache` undefined look the same for a taken key and a 429,
 *   a miss and an outage. The library's failure lines are therefore taken out of the step's log while a call runs
 *   (see `capture`) and become the cause of our one STORE_UNAVAILABLE warning, instead of 2-4 vague warnings.
 */
import { crypto } from '../core/lazy-crypto.js';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Limit, Mutex, STORE_CALLS_AT_ONCE, storeUnavailable, type Blob, type RevisionBlobs } from './blobs.js';

const DESCRIPTION = 'the Actions cache';

/**
 * The one relative file a blob's entry archives. Its name is part of the entry's version, so every writer and reader
 * of a blob must derive the same one, from what both know: the first three `~` parts of the name or prefix
 * (`mcp-jobs~<instance>~<job-id>` for a job's revisions and large result, `mcp-jobs~<instance>~run<id>` for the
 * run's index and claims).
 */
export function blobFile(nameOrPrefix: string): { file: string; group: string } {
  const parts = nameOrPrefix.split('~');
  if (parts.length < 4) throw new Error(`cache blob name '${nameOrPrefix}' has no group (three '~' parts)`);
  const group = parts.slice(0, 3).join('~');
  return { file: `mcp-jobs-${crypto().createHash('sha256').update(group).digest('hex').slice(0, 24)}.json`, group };
}

/**
 * The working directory, GITHUB_WORKSPACE and stdout are the process's, shared by every cache call of every
 * CacheBlobs (a root-action step builds two stores): they point at one scratch directory while any call runs.
 * Calls for one group (one file in it) take turns.
 */
const groups = new Map<string, Mutex>();
const calls = new Limit(STORE_CALLS_AT_ONCE);
let scratch: { dir: Promise<string>; calls: number; cwd: string; workspace: string | undefined } | undefined;

/** The library's own failure lines (warning, error or info), by how they start. */
const LIBRARY_FAILURE =
  /^(Failed to (save|restore|reserve cache)|Cache reservation failed|You've hit a rate limit|Attempt \d+ of \d+ failed|uploadCacheArchiveSDK|Unable to (reserve|finalize))/;

type CacheModule = typeof import('@actions/cache');

export class CacheBlobs implements RevisionBlobs {
  readonly description = DESCRIPTION;
  readonly newestIsLastWritten = true;
  private module: Promise<CacheModule> | undefined;

  constructor(
    private readonly scratchDir: string,
    private readonly env: NodeJS.ProcessEnv = process.env,
  ) {}

  unavailableReason(): string | undefined {
    if (!this.env.ACTIONS_RUNTIME_TOKEN)
      return 'ACTIONS_RUNTIME_TOKEN is not set (the runner gives it only to actions)';
    if (!this.env.ACTIONS_RESULTS_URL && !this.env.ACTIONS_CACHE_URL) {
      return 'neither ACTIONS_RESULTS_URL nor ACTIONS_CACHE_URL is set: the runner offers no cache service';
    }
    return undefined;
  }

  private cache(): Promise<CacheModule> {
    this.module ??= import('@actions/cache');
    return this.module;
  }

  /**
   * Runs one library call for the blob `nameOrPrefix` names: `file` is its relative file, `path` where that is in the
   * shared scratch directory (the cwd and GITHUB_WORKSPACE meanwhile).
   */
  private inScratch<T>(
    nameOrPrefix: string,
    fn: (file: string, path: string, cache: CacheModule) => Promise<T>,
  ): Promise<T> {
    const { file, group } = blobFile(nameOrPrefix);
    let mutex = groups.get(group);
    if (mutex === undefined) groups.set(group, (mutex = new Mutex()));
    return mutex.run(() =>
      calls.run(async () => {
        const cache = await this.cache();
        const dir = await enterScratch(this.scratchDir);
        try {
          return await fn(file, join(dir, file), cache);
        } finally {
          await rm(join(dir, file), { force: true });
          await leaveScratch();
        }
      }),
    );
  }

  async create(name: string, content: string): Promise<'created' | 'exists'> {
    return this.inScratch(name, async (file, path, cache) => {
      await writeFile(path, content, 'utf8');
      const saved = await capture(() => cache.saveCache([file], name, undefined, true));
      if (saved.error !== undefined) throw storeUnavailable(DESCRIPTION, `saving ${name}`, saved.error);
      if (saved.value !== -1) return 'created';
      // A taken key is a 409 (its entry may still be uploading, so a lookup need not see it yet).
      if (saved.problems.some((line) => /\(409\)|already exists/i.test(line))) return 'exists';
      // Any other -1: a lookup tells a taken key the library did not report as such from a refused save.
      const found = await capture(() => cache.restoreCache([file], name, [], { lookupOnly: true }, true));
      if (found.value === name) return 'exists';
      throw storeUnavailable(
        DESCRIPTION,
        `saving ${name}`,
        causeOf([...saved.problems, ...found.problems], found.error) ??
          'the save was refused without a reason (a read-only token, a rate limit or a service outage)',
      );
    });
  }

  async newest(prefix: string): Promise<Blob | undefined> {
    return this.inScratch(prefix, async (file, path, cache) => {
      const name = await restore(cache, file, prefix, false);
      return name === undefined ? undefined : { name, content: await readFile(path, 'utf8') };
    });
  }

  /** A lookup touches no file: it needs neither the scratch directory nor a turn of its group. */
  async newestName(prefix: string): Promise<string | undefined> {
    const cache = await this.cache();
    return calls.run(() => restore(cache, blobFile(prefix).file, prefix, true));
  }
}

/** The first call in: the scratch directory, made the cwd and GITHUB_WORKSPACE until the last call is out. */
async function enterScratch(parent: string): Promise<string> {
  if (scratch === undefined) {
    const cwd = process.cwd();
    const workspace = process.env.GITHUB_WORKSPACE;
    const dir = mkdtemp(join(parent, 'cache-')).then((made) => {
      process.chdir(made);
      process.env.GITHUB_WORKSPACE = made;
      return made;
    });
    scratch = { dir, calls: 0, cwd, workspace };
  }
  scratch.calls++;
  try {
    return await scratch.dir;
  } catch (error) {
    await leaveScratch();
    throw error;
  }
}

async function leaveScratch(): Promise<void> {
  const state = scratch!;
  if (--state.calls > 0) return;
  scratch = undefined;
  const dir = await state.dir.catch(() => undefined);
  if (dir === undefined) return;
  process.chdir(state.cwd);
  if (state.workspace === undefined) delete process.env.GITHUB_WORKSPACE;
  else process.env.GITHUB_WORKSPACE = state.workspace;
  await rm(dir, { recursive: true, force: true });
}

/** The key of the newest entry for `prefix`, restored into the scratch directory unless `lookupOnly`. */
async function restore(
  cache: CacheModule,
  file: string,
  prefix: string,
  lookupOnly: boolean,
): Promise<string | undefined> {
  const restored = await capture(() => cache.restoreCache([file], prefix, [], { lookupOnly }, true));
  if (restored.value === undefined) {
    // A miss is silent; a failed restore (429, outage, denied read) is logged and also answers undefined.
    const cause = causeOf(restored.problems, restored.error);
    if (cause !== undefined) throw storeUnavailable(DESCRIPTION, `restoring ${prefix}…`, cause);
  }
  return restored.value;
}

interface Captured<T> {
  value?: T;
  error?: unknown;
  /** The library's failure lines, in order. */
  problems: string[];
}

/** The problem lists of the library calls running now; stdout is filtered while there are any. */
const collectors = new Set<string[]>();
let unfiltered: typeof process.stdout.write | undefined;

/**
 * Runs one library call with its failure lines taken out of stdout (where @actions/core writes workflow commands):
 * they are collected and written as debug lines instead. Everything else passes through untouched, so output of
 * other work of the step going on meanwhile is not lost. The lines carry no key, so while calls run side by side each
 * collects every failure line written during it: an outage fails them all alike.
 */
async function capture<T>(fn: () => Promise<T>): Promise<Captured<T>> {
  const problems: string[] = [];
  if (collectors.size === 0) {
    const write = (unfiltered = process.stdout.write);
    process.stdout.write = function (this: unknown, chunk: unknown, ...rest: unknown[]): boolean {
      const text = typeof chunk === 'string' ? chunk : Buffer.isBuffer(chunk) ? chunk.toString('utf8') : undefined;
      return (write as (...args: unknown[]) => boolean).call(
        process.stdout,
        text === undefined ? chunk : filterLibraryFailures(text),
        ...rest,
      );
    } as typeof process.stdout.write;
  }
  collectors.add(problems);
  try {
    return { value: await fn(), problems };
  } catch (error) {
    return { error, problems };
  } finally {
    collectors.delete(problems);
    if (collectors.size === 0) process.stdout.write = unfiltered!;
  }
}

/** `text` with the library's failure lines turned into debug lines, each collected by every running call. */
function filterLibraryFailures(text: string): string {
  return text
    .split(/(?<=\n)/)
    .map((line) => {
      const command = /^::(warning|error|debug)(?: [^:]*)?::(.*?)(\r?\n)?$/s.exec(line);
      const message = command === null ? line.replace(/\r?\n$/, '') : unescapeData(command[2]!);
      if (!LIBRARY_FAILURE.test(message)) return line;
      for (const problems of collectors) problems.push(message);
      if (command?.[1] === 'debug') return line;
      return `::debug::${escapeData(message)}${line.endsWith('\n') ? '\n' : ''}`;
    })
    .join('');
}

/**
 * The most telling cause among the captured lines: the first failure (the reservation error names the HTTP status
 * or the network error), plus the rate-limit notice when there is one. First lines only: the library appends
 * advice for self-hosted runners to network errors.
 */
function causeOf(problems: string[], error?: unknown): string | undefined {
  const lines = [...new Set(problems.map((line) => line.split(/\r?\n/)[0]!.trim()))].filter(
    (line) => !/another job may be creating this cache\.?$/.test(line),
  );
  const main = lines.find((line) => line.startsWith('Failed to')) ?? lines[0];
  const rateLimit = lines.find((line) => line.startsWith("You've hit a rate limit"));
  const parts = [main, rateLimit === main ? undefined : rateLimit];
  if (error !== undefined) parts.push(error instanceof Error ? error.message : String(error));
  const cause = parts.filter((part) => part !== undefined).join('; ');
  return cause === '' ? undefined : cause.replace(/\bError: /g, '');
}

const unescapeData = (value: string): string => value.replace(/%0D/g, '\r').replace(/%0A/g, '\n').replace(/%25/g, '%');
const escapeData = (value: string): string => value.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
