/** Builds the job store a step asked for with its `store` input. */
import { crypto } from '../core/lazy-crypto.js';
import { mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { JobError } from '../core/errors.js';
import type { JobStore, Log } from '../core/ports.js';
import { ArtifactBlobs } from './artifact-blobs.js';
import type { RevisionBlobs } from './blobs.js';
import { CacheBlobs } from './cache-blobs.js';
import { LayeredJobStore } from './layered.js';
import { LocalJobStore } from './local.js';
import { SharedJobStore } from './shared.js';

export const STORE_KINDS = ['auto', 'local', 'cache', 'artifact'] as const;
export type StoreKind = (typeof STORE_KINDS)[number];

export interface StoreOptions {
  kind: StoreKind;
  stateDir: string;
  retentionDays: number;
  log: Log;
  env?: NodeJS.ProcessEnv;
}

export function createJobStore(options: StoreOptions): JobStore {
  const env = options.env ?? process.env;
  // Every store writes the runner's copy first: a state-dir that cannot hold it fails every step, so say so now.
  usableStateDir(options.stateDir);
  const local = new LocalJobStore(options.stateDir, { log: options.log });
  if (options.kind === 'local') return new LayeredJobStore(local, undefined, options.log);
  const scratch = join(options.stateDir, '.scratch');
  usableStateDir(scratch);
  const blobs: RevisionBlobs =
    options.kind === 'artifact' ? new ArtifactBlobs(scratch, options.retentionDays, env) : new CacheBlobs(scratch, env);
  const reason = blobs.unavailableReason();
  if (reason !== undefined) {
    if (options.kind !== 'auto') {
      // Asked for by name: records that silently stayed on this runner would only fail later, in another job.
      throw new JobError(
        'STORE_UNAVAILABLE',
        `Input 'store' is '${options.kind}', but ${blobs.description} cannot be used: ${reason}. Use store: local to keep job records on this runner, or store: auto to use a shared store only where there is one`,
        { input: 'store', retryable: false },
      );
    }
    // Without a runtime token this is no action step on a runner (a local run, a test): nothing to warn about.
    if (env.ACTIONS_RUNTIME_TOKEN) {
      options.log.warning(
        `store: auto found no shared store (${blobs.description}: ${reason}); job records stay on this runner, so other jobs cannot wait for or cancel these jobs`,
      );
    } else options.log.debug(`store auto: ${blobs.description} not used: ${reason}`);
    return new LayeredJobStore(local, undefined, options.log);
  }
  return new LayeredJobStore(local, new SharedJobStore(blobs, env.GITHUB_RUN_ID || 'local'), options.log);
}

/** Makes sure `dir` is a directory this process can write, or fails naming it and why. */
function usableStateDir(dir: string): void {
  const fail = (why: string, cause?: unknown): JobError =>
    new JobError('STORE_UNAVAILABLE', `Input 'state-dir': ${dir} cannot hold job records: ${why}`, {
      input: 'state-dir',
      path: dir,
      retryable: false,
      ...(cause === undefined ? {} : { cause }),
    });
  try {
    mkdirSync(dir, { recursive: true });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EEXIST' || code === 'ENOTDIR') throw fail('it or a directory above it is a file', error);
    throw fail((error as Error).message, error);
  }
  if (!statSync(dir).isDirectory()) throw fail('it is not a directory');
  // The only sure test of writability (permissions, read-only mounts, ACLs) is to write.
  const probe = join(dir, `.probe-${process.pid}-${crypto().randomBytes(4).toString('hex')}`);
  try {
    writeFileSync(probe, '', { flag: 'wx', mode: 0o600 });
  } catch (error) {
    throw fail(`it is not writable (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`, error);
  } finally {
    rmSync(probe, { force: true });
  }
}
