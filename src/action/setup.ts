/**
 * setup: puts `mcp-jobs` on PATH for the job's later `run:` steps. It writes a small wrapper script into a directory
 * of its own under RUNNER_TEMP (the CLI bundled with this action, run by the node that runs this step) and adds
 * that directory to GITHUB_PATH. Later `run:` steps then see the same job records as the action's steps: the CLI's
 * default state dir on a runner is `$RUNNER_TEMP/mcp-jobs`, the action's too.
 */
import { chmod, mkdir } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { invalidInput } from '../core/errors.js';
import { replaceFile } from '../store/files.js';
import { CLIENT_INFO } from '../version.js';
import type { ActionHost } from './host.js';

/** dist/cli/index.js of this action: this step runs from dist/setup/index.js, whose bundle is dist/bundle/. */
function cliPath(): string {
  const here = process.argv[1] === undefined ? fileURLToPath(import.meta.url) : resolve(process.argv[1]);
  return join(dirname(dirname(here)), 'cli', 'index.js');
}

const quote = (value: string): string => `'${value.replace(/'/g, `'\\''`)}'`;

export async function setupStep(host: ActionHost): Promise<void> {
  const temp = host.env('RUNNER_TEMP');
  if (temp === undefined || temp === '') throw invalidInput('RUNNER_TEMP', 'is not set: setup runs on a GitHub runner');
  const bin = join(temp, 'mcp-jobs-bin');
  await mkdir(bin, { recursive: true });
  const cli = cliPath();
  const node = process.execPath;
  await replaceFile(join(bin, 'mcp-jobs'), `#!/bin/sh\nexec ${quote(node)} ${quote(cli)} "$@"\n`);
  await chmod(join(bin, 'mcp-jobs'), 0o755);
  // Windows runners: a .cmd beside it, found by cmd and PowerShell.
  await replaceFile(join(bin, 'mcp-jobs.cmd'), `@"${node}" "${cli}" %*\r\n`);
  host.addPath(bin);
  host.setOutput('path', join(bin, 'mcp-jobs'));
  host.setOutput('version', CLIENT_INFO.version);
  host.log.info(`mcp-jobs ${CLIENT_INFO.version} is on PATH for later steps (${join(bin, 'mcp-jobs')})`);
}
