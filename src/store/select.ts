/** Builds the job store a step asked for with its `store` input. */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
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
  const local = new LocalJobStore(options.stateDir);
  if (options.kind === 'local') return new LayeredJobStore(local, undefined, options.log);
  const scratch = join(options.stateDir, '.scratch');
  mkdirSync(scratch, { recursive: true });
  const blobs: RevisionBlobs =
    options.kind === 'artifact' ? new ArtifactBlobs(scratch, options.retentionDays, env) : new CacheBlobs(scratch, env);
  const reason = blobs.unavailableReason();
  if (reason !== undefined) {
    if (options.kind === 'auto') options.log.debug(`store auto: ${blobs.description} not used: ${reason}`);
    else {
      options.log.warning(
        `store: ${options.kind} asked for ${blobs.description}, but ${reason}; job records stay on this runner only`,
      );
    }
    return new LayeredJobStore(local, undefined, options.log);
  }
  return new LayeredJobStore(local, new SharedJobStore(blobs, env.GITHUB_RUN_ID || 'local'), options.log);
}
