/**
 * Runs the built command line (`dist/cli/index.js`) as a separate process, the way a shell or a `run:` step does:
 * a clean environment (PATH, HOME and what the test gives), stdout and stderr captured, an optional signal once
 * stderr shows a line. Every state dir made here is removed after the test file.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { makeRunnerTemp, REPO_ROOT } from './runner.js';

export const CLI = path.join(REPO_ROOT, 'dist', 'cli', 'index.js');

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  env?: Record<string, string | undefined>;
  /** Send this signal once stderr (all of it so far) matches `when`. */
  signal?: { name: NodeJS.Signals; when: RegExp };
  timeoutMs?: number;
}

/** A fresh directory, removed after the test file (as the runner helper's RUNNER_TEMPs are). */
export function tempDir(prefix = 'mcp-jobs-cli-'): string {
  return makeRunnerTemp(prefix);
}

export function runCli(args: string[], options: CliOptions = {}): Promise<CliResult> {
  if (!fs.existsSync(CLI)) throw new Error(`CLI not built: ${CLI} (npm run build)`);
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries({ PATH: process.env.PATH, HOME: os.homedir(), ...options.env })) {
    if (value !== undefined) env[name] = value;
  }
  const child = spawn(process.execPath, [CLI, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  let signalled = false;
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
    if (options.signal !== undefined && !signalled && options.signal.when.test(stderr)) {
      signalled = true;
      child.kill(options.signal.name);
    }
  });
  const killer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 90_000);
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(killer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/** For failure messages: what the process printed. */
export function describeCli(result: CliResult): string {
  return `exit ${result.code} ${result.signal ?? ''}\n--- stdout\n${result.stdout}\n--- stderr\n${result.stderr}`;
}
