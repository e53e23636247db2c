/**
 * The channel between steps and the job runner: newline-delimited JSON over a Unix socket in the state dir.
 *
 * Why a socket: a waiting step must learn of a job's end within 100 ms of the runner seeing it. A socket pushes
 * each event the moment it happens, with no polling at all; it is private to the machine and, in an owner-only
 * directory, to the user; and when the runner dies the kernel closes every connection at once, so a waiting step
 * knows within milliseconds (not after a heartbeat timeout) that the job is lost. Files polled at human intervals
 * would be slow, and a TCP port would be reachable by every local user.
 */
import { crypto } from '../core/lazy-crypto.js';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Socket } from 'node:net';
import type { ProgressUpdate, TaskOutcome, TaskSnapshot } from '../core/ports.js';

/** Unix socket paths are limited to about 104 bytes (macOS) or 108 (Linux). */
const MAX_SOCKET_PATH = 100;

/** The workflow job a step belongs to: `<run id>/<attempt>/<job>`, `local/1/local` outside Actions. */
export function workflowJobIdentity(env: NodeJS.ProcessEnv): string {
  const part = (value: string | undefined, fallback: string): string =>
    value === undefined || value === '' ? fallback : value;
  return `${part(env.GITHUB_RUN_ID, 'local')}/${part(env.GITHUB_RUN_ATTEMPT, '1')}/${part(env.GITHUB_JOB, 'local')}`;
}

export function hostName(): string {
  return hostname();
}

/** The socket of the runner of one workflow job: `<state-dir>/runner/<hash>.sock` (in the temp dir when too long). */
export function socketPath(stateDir: string, workflowJob: string): string {
  const hash = crypto().createHash('sha256').update(`${workflowJob}\n${hostName()}`).digest('hex');
  const path = join(stateDir, 'runner', `${hash.slice(0, 16)}.sock`);
  if (Buffer.byteLength(path) <= MAX_SOCKET_PATH) return path;
  const long = crypto().createHash('sha256').update(`${stateDir}\n${workflowJob}\n${hostName()}`).digest('hex');
  return join(tmpdir(), `mcp-jobs-${long.slice(0, 16)}.sock`);
}

export type Request =
  | { id: number; op: 'submit'; spec: unknown }
  | { id: number; op: 'watch'; jobId: string }
  | { id: number; op: 'snapshot'; jobId: string }
  | { id: number; op: 'cancel'; jobId: string; reason: 'timeout' | 'signal' | 'user'; note?: string }
  | { id: number; op: 'cancel-all'; note: string };

export interface WireError {
  code: string;
  message: string;
  retryable?: boolean;
  input?: string;
}

export type Reply =
  | { id: number; ok: true; value?: unknown }
  | { id: number; ok: false; error: WireError }
  | { id: number; event: 'status'; task: TaskSnapshot }
  | { id: number; event: 'progress'; update: ProgressUpdate }
  | { id: number; event: 'end'; outcome: TaskOutcome };

/** Calls `onMessage` for every JSON line that arrives on the socket. */
export function readLines(socket: Socket, onMessage: (message: unknown) => void): void {
  let buffer = '';
  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => {
    buffer += chunk;
    for (let at = buffer.indexOf('\n'); at >= 0; at = buffer.indexOf('\n')) {
      const line = buffer.slice(0, at);
      buffer = buffer.slice(at + 1);
      if (line.trim() === '') continue;
      try {
        onMessage(JSON.parse(line));
      } catch {
        socket.destroy();
        return;
      }
    }
  });
}

export function send(socket: Socket, message: unknown): void {
  if (!socket.destroyed) socket.write(`${JSON.stringify(message)}\n`);
}
