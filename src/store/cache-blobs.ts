/**
 * Revision blobs in the Actions cache (`@actions/cache`). Facts that shape this code (see the reference notes):
 * - a key can never be overwritten; `saveCache` returns -1 without throwing for a taken key, a 429, a read-only
 *   token or a service outage alike, so a -1 is told apart by looking the key up afterwards;
 * - an entry matches only with the same `paths` list (they are hashed into its version) and the archive holds paths
 *   relative to GITHUB_WORKSPACE: every blob is the one relative file `mcp-jobs-record.json`, archived from and
 *   restored into a fresh directory that is, for the length of the call, both the working directory and
 *   GITHUB_WORKSPACE. Calls are therefore serialised.
 * - restore matches the exact key, else the newest entry whose key starts with it.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Mutex, storeUnavailable, type Blob, type RevisionBlobs } from './blobs.js';

const FILE = 'mcp-jobs-record.json';
const DESCRIPTION = 'the Actions cache';

type CacheModule = typeof import('@actions/cache');

export class CacheBlobs implements RevisionBlobs {
  readonly description = DESCRIPTION;
  private readonly lock = new Mutex();
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
    return this.lock.run(async () => {
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
      let id: number;
      try {
        id = await cache.saveCache([FILE], name, undefined, true);
      } catch (error) {
        throw storeUnavailable(DESCRIPTION, `saving ${name}`, error);
      }
      if (id !== -1) return 'created';
      // -1 means a taken key, or a failure the library only logged: only a lookup tells which.
      let found: string | undefined;
      try {
        found = await cache.restoreCache([FILE], name, [], { lookupOnly: true }, true);
      } catch (error) {
        throw storeUnavailable(DESCRIPTION, `checking ${name} after a failed save`, error);
      }
      if (found === name) return 'exists';
      throw storeUnavailable(
        DESCRIPTION,
        `saving ${name}`,
        'the save was refused (see the cache warning above: a read-only token, a rate limit or a service outage)',
      );
    });
  }

  async newest(prefix: string): Promise<Blob | undefined> {
    return this.inScratch(async (dir, cache) => {
      let matched: string | undefined;
      try {
        matched = await cache.restoreCache([FILE], prefix, [], {}, true);
      } catch (error) {
        throw storeUnavailable(DESCRIPTION, `restoring ${prefix}…`, error);
      }
      if (matched === undefined) return undefined;
      return { name: matched, content: await readFile(join(dir, FILE), 'utf8') };
    });
  }
}
