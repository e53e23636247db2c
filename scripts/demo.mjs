#!/usr/bin/env node
// npm run demo: the main job of mcp-jobs on an embedded default, from a fresh clone after `npm ci && npm run build`.
// Starts the bundled @modelcontextprotocol/server-everything on 127.0.0.1 (a free port), then runs the built CLI as
// a user would: submit a long call in the background, list, watch and wait for it. Job records go to a temporary
// state dir, removed at the end with the server.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const cli = join(root, 'dist', 'cli', 'index.js');
const everything = join(root, 'node_modules', '@modelcontextprotocol', 'server-everything', 'dist', 'index.js');
for (const [file, fix] of [
  [cli, 'npm run build'],
  [everything, 'npm ci'],
]) {
  if (!existsSync(file)) {
    console.error(`demo: ${file} is missing; run \`${fix}\` first`);
    process.exit(2);
  }
}

const port = await new Promise((resolve, reject) => {
  const probe = createServer().once('error', reject);
  probe.listen(0, '127.0.0.1', () => {
    const { port: free } = probe.address();
    probe.close(() => resolve(free));
  });
});
const stateDir = mkdtempSync(join(tmpdir(), 'mcp-jobs-demo-'));
// server-everything binds every interface unless told otherwise: the preload keeps it on 127.0.0.1.
const loopback = join(root, '__tests__', 'fixtures', 'loopback-preload.mjs');
const server = spawn(
  process.execPath,
  [...(existsSync(loopback) ? ['--import', `file://${loopback}`] : []), everything, 'streamableHttp'],
  { env: { ...process.env, PORT: String(port) }, stdio: ['ignore', 'pipe', 'pipe'] },
);
const cleanup = () => {
  server.kill();
  rmSync(stateDir, { recursive: true, force: true });
};
process.on('exit', cleanup);
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => process.exit(130));

await new Promise((resolve, reject) => {
  let seen = '';
  const onData = (chunk) => {
    seen += chunk;
    if (/listening on port/i.test(seen)) resolve();
  };
  server.stdout.on('data', onData);
  server.stderr.on('data', onData);
  server.once('exit', (code) => reject(new Error(`server-everything exited (${code}) before listening:\n${seen}`)));
  setTimeout(() => reject(new Error('server-everything did not start within 30 s')), 30_000).unref();
});

const url = `http://127.0.0.1:${port}/mcp`;
const base = ['--server', url, '--state-dir', stateDir];
const mcpJobs = (args, options = {}) => {
  console.log(`\n$ mcp-jobs ${args.join(' ')}`);
  const run = spawnSync(process.execPath, [cli, ...base, ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
    ...options,
  });
  const out = run.stdout.toString();
  process.stdout.write(out);
  if (run.status !== 0) throw new Error(`mcp-jobs ${args.join(' ')} exited ${run.status}`);
  return out;
};

console.log(`server-everything on ${url}; job records in ${stateDir}`);
mcpJobs(['tools']);
const submitted = JSON.parse(
  mcpJobs(['--json', 'call', 'simulate-research-query', '--topic', 'tides', '--background']),
);
const jobId = submitted.data.job_id;
mcpJobs(['jobs', 'list']);
mcpJobs(['jobs', 'show', '--latest']);
mcpJobs(['jobs', 'watch', jobId]);
mcpJobs(['jobs', 'wait', '--latest']);
console.log(`\ndemo: ${jobId} completed; the same commands work against your own server (--server URL).`);
