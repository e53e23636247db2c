/**
 * Revision blobs in the Actions cache (`@actions/cache`). Facts that shape this code (see the reference notes):
 * - a key can never be overwritten; `saveCache` returns -1 without throwing for a taken key, a 429, a read-only
 *   token or a service outage alike, so a -1 is told apart by looking the key up afterwards;
 * - an entry matches only with the same `paths` list (they are hashed into its version) and the archive holds paths
 *   relative to GITHUB_WORKSPACE: every blob is the one relative file `mcp-jobs-record.json`, archived from and
 *   restored into a fresh directory that is, for the length of the call, both the working directory and
 *   GITHUB_WORKSPACE. Calls are therefore serialised.
 * - restore matches the exact key, else the newest entry whose key starts with it;
 * - failures are only logged: `saveCache` -1 and `restoreCache` undefined look the same for a taken key and a 429,
 *   a miss and an outage. The library's failure lines are therefore taken out of the step's log while a call runs
 *   (see `capture`) and become the cause of our one STORE_UNAVAILABLE warning, instead of 2-4 vague warnings.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Mutex, storeUnavailable, type Blob, type RevisionBlobs } from './blobs.js';

const FILE = 'mcp-jobs-record.json';
const DESCRIPTION = 'the Actions cache';

/**
 * The working directory, GITHUB_WORKSPACE and stdout are the process's: every cache call of every CacheBlobs (a
 * root-action step builds two stores) runs alone.
 */
const lock = new Mutex();

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

  /** Runs one library call inside a fresh directory that is both the cwd and GITHUB_WORKSPACE. */
  private inScratch<T>(fn: (dir: string, cache: CacheModule) => Promise<T>): Promise<T> {
    return lock.run(async () => {
      const cache = await this.cache();
      const dir = await mkdtemp(join(this.scratchDir, 'cache-'));
      const cwd = process.cwd();
      const workspace = process.env.GITHUB_WORKSPACE;
      try {
        process.chdir(dir);
        process.env.GITHUB_WORKSPACE = dir;
        return await fn(dir, cache);
      } finally {
        process.chdir(cwd);
        if (workspace === undefined) delete process.env.GITHUB_WORKSPACE;
        else process.env.GITHUB_WORKSPACE = workspace;
        await rm(dir, { recursive: true, force: true });
      }
    });
  }

  async create(name: string, content: string): Promise<'created' | 'exists'> {
    return this.inScratch(async (dir, cache) => {
      await writeFile(join(dir, FILE), content, 'utf8');
      const saved = await capture(() => cache.saveCache([FILE], name, undefined, true));
      if (saved.error !== undefined) throw storeUnavailable(DESCRIPTION, `saving ${name}`, saved.error);
      if (saved.value !== -1) return 'created';
      // A taken key is a 409 (its entry may still be uploading, so a lookup need not see it yet).
      if (saved.problems.some((line) => /\(409\)|already exists/i.test(line))) return 'exists';
      // Any other -1: a lookup tells a taken key the library did not report as such from a refused save.
      const found = await capture(() => cache.restoreCache([FILE], name, [], { lookupOnly: true }, true));
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
    return this.inScratch(async (dir, cache) => {
      const name = await restore(cache, prefix, false);
      return name === undefined ? undefined : { name, content: await readFile(join(dir, FILE), 'utf8') };
    });
  }

  async newestName(prefix: string): Promise<string | undefined> {
    return this.inScratch((_dir, cache) => restore(cache, prefix, true));
  }
}

/** The key of the newest entry for `prefix`, restored into the working directory unless `lookupOnly`. */
async function restore(cache: CacheModule, prefix: string, lookupOnly: boolean): Promise<string | undefined> {
  const restored = await capture(() => cache.restoreCache([FILE], prefix, [], { lookupOnly }, true));
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

/**
 * Runs one library call with its failure lines taken out of stdout (where @actions/core writes workflow commands):
 * they are collected and written as debug lines instead. Everything else passes through untouched, so output of
 * other work of the step going on meanwhile is not lost. Runs under the lock, so no other cache call interleaves.
 */
async function capture<T>(fn: () => Promise<T>): Promise<Captured<T>> {
  const problems: string[] = [];
  const write = process.stdout.write;
  const filter = (text: string): string =>
    text
      .split(/(?<=\n)/)
      .map((line) => {
        const command = /^::(warning|error|debug)(?: [^:]*)?::(.*?)(\r?\n)?$/s.exec(line);
        const message = command === null ? line.replace(/\r?\n$/, '') : unescapeData(command[2]!);
        if (!LIBRARY_FAILURE.test(message)) return line;
        problems.push(message);
        if (command?.[1] === 'debug') return line;
        return `::debug::${escapeData(message)}${line.endsWith('\n') ? '\n' : ''}`;
      })
      .join('');
  process.stdout.write = function (this: unknown, chunk: unknown, ...rest: unknown[]): boolean {
    const text = typeof chunk === 'string' ? chunk : Buffer.isBuffer(chunk) ? chunk.toString('utf8') : undefined;
    return (write as (...args: unknown[]) => boolean).call(
      process.stdout,
      text === undefined ? chunk : filter(text),
      ...rest,
    );
  } as typeof process.stdout.write;
  try {
    return { value: await fn(), problems };
  } catch (error) {
    return { error, problems };
  } finally {
    process.stdout.write = write;
  }
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
