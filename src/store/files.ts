/**
 * How mcp-jobs writes its files: readable by the owner only (0600: records, results, claims and locks may name
 * jobs and hold results), and records and results atomically, so a reader never sees half a file and a killed step
 * never leaves one damaged.
 */
import { open, rename, rm } from 'node:fs/promises';

export interface OwnerOnlyOptions {
  /** Fail with EEXIST when the file exists (an exclusive create: how locks and claims are taken). */
  exclusive?: boolean;
  /** Flush it to disk before returning. */
  sync?: boolean;
}

/** Writes `content` to `path`, a file readable by the owner only. */
export async function writeOwnerOnly(path: string, content: string, options: OwnerOnlyOptions = {}): Promise<void> {
  const file = await open(path, options.exclusive === true ? 'wx' : 'w', 0o600);
  try {
    await file.writeFile(content, 'utf8');
    if (options.sync === true) await file.sync();
  } finally {
    await file.close();
  }
}

let temps = 0;

/**
 * A temporary name beside `path`, for a file that is renamed (or linked) into place once written. The process ID and
 * a counter make it unique among the writers on this machine (no two live processes share a PID); the random part
 * only keeps names apart across PID reuse. Not from node:crypto: a step answered from its record writes its result
 * file this way, and loading node:crypto alone costs a sixth of that step.
 */
export function tempBeside(path: string): string {
  return `${path}.${process.pid}-${++temps}-${Math.random().toString(36).slice(2, 8)}.tmp`;
}

/** Replaces `path` atomically: a flushed owner-only temporary file beside it, renamed over it. */
export async function replaceFile(path: string, content: string): Promise<void> {
  const temp = tempBeside(path);
  try {
    await writeOwnerOnly(temp, content, { sync: true });
    await rename(temp, path);
  } catch (error) {
    await rm(temp, { force: true }).catch(() => undefined);
    throw error;
  }
}
