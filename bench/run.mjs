#!/usr/bin/env node
/**
 * mcp-jobs benchmark (`npm run bench`, after `npm ci && npm run build`). Prints figures; asserts nothing about time.
 *
 *  1. Completion detection: how long after the server stored a task's result a separate `wait` process logs
 *     `<jobId>: completed` (fixture pollInterval 1000 ms, so polling cannot explain fast detection).
 *  2. `submit` wall time vs a minimal hand-written client (bench/minimal-submit.mjs) doing the same MCP calls.
 *  3. `wait` on an already finished job (answered from the record) vs a bare `node -e ''`, plus one HTTP round trip.
 *  4. Bundle sizes of dist/.
 *
 * Every entry runs as its own node process with a runner-like environment (INPUT_*, GITHUB_OUTPUT, GITHUB_STATE,
 * GITHUB_STEP_SUMMARY, RUNNER_TEMP), as on a GitHub runner. Only 127.0.0.1 is contacted. Exit status 0 unless
 * something is functionally broken (an entry failed, a wait did not complete); targets are shown as ✓/✗ only.
 *
 * Environment: BENCH_RUNS (runs per measurement, default 12).
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const FIXTURE = path.join(ROOT, '__tests__', 'fixtures', 'v1-task-server.mjs');
const EXIT_WITH_PARENT = path.join(ROOT, '__tests__', 'fixtures', 'exit-with-parent.mjs');
const MINIMAL = path.join(ROOT, 'bench', 'minimal-submit.mjs');
const ENTRIES = ['submit', 'wait', 'cancel', 'call', 'post'];

const RUNS = Math.max(1, Number.parseInt(process.env.BENCH_RUNS || '12', 10) || 12);
const SLOW_MS = 1500;
const FIXTURE_POLL_MS = 1000;
const ENTRY_TIMEOUT_MS = 30_000;
/** Hard stop for the whole benchmark. */
const OVERALL_TIMEOUT_MS = 170_000;

const TARGETS = {
  detectP50Ms: 20,
  submitRatio: 1.2,
  waitRecordRatio: 1.5,
};

// ---------------------------------------------------------------------------------------------
// Small utilities
// ---------------------------------------------------------------------------------------------

class BenchFailure extends Error {}

const tempDirs = [];
function tempDir(prefix) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  tempDirs.push(dir);
  return dir;
}

function sorted(values) {
  return [...values].sort((a, b) => a - b);
}
/** Nearest-rank percentile. */
function percentile(values, p) {
  const s = sorted(values);
  if (s.length === 0) return NaN;
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
}
function median(values) {
  const s = sorted(values);
  if (s.length === 0) return NaN;
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}
const ms = (v) => (Number.isFinite(v) ? `${v.toFixed(v < 10 ? 1 : 0)} ms` : 'n/a');
const mark = (ok) => (ok ? '✓' : '✗');
const kib = (bytes) => `${(bytes / 1024).toFixed(1)} KiB`;

/** Parses a runner file-command file (`name<<DELIM` … `DELIM`, or `name=value`), later values win. */
function parseFileCommands(text) {
  const result = {};
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (line === '') continue;
    const heredoc = /^([^=]+?)<<(.+)$/.exec(line);
    const eq = line.indexOf('=');
    if (heredoc && (eq === -1 || eq > line.indexOf('<<'))) {
      const [, name, delimiter] = heredoc;
      const value = [];
      for (i++; i < lines.length && lines[i] !== delimiter; i++) value.push(lines[i]);
      result[name] = value.join('\n');
      continue;
    }
    if (eq > 0) result[line.slice(0, eq)] = line.slice(eq + 1);
  }
  return result;
}

/** Input defaults of an entry's action.yml, as the runner applies them. */
function actionDefaults(entry) {
  const file = entry === 'call' ? path.join(ROOT, 'action.yml') : path.join(ROOT, entry, 'action.yml');
  const doc = parseYaml(fs.readFileSync(file, 'utf8'));
  const defaults = {};
  for (const [name, spec] of Object.entries(doc.inputs ?? {})) {
    if (spec && spec.default !== undefined) defaults[name] = String(spec.default);
  }
  return defaults;
}

// ---------------------------------------------------------------------------------------------
// Processes
// ---------------------------------------------------------------------------------------------

const liveChildren = new Set();

/**
 * Spawns a node process and collects its output. `onData(chunk, stdoutSoFar)` sees stdout as it arrives.
 * Resolves at 'close' (all output read) with the wall time from spawn to exit.
 */
function runNode(args, { env, onData, timeoutMs = ENTRY_TIMEOUT_MS } = {}) {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    let exitedAt;
    const child = spawn(process.execPath, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    liveChildren.add(child);
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
      onData?.(chunk, stdout);
    });
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
    });
    child.once('exit', () => {
      exitedAt = performance.now();
    });
    child.once('error', (error) => {
      clearTimeout(timer);
      liveChildren.delete(child);
      reject(error);
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      liveChildren.delete(child);
      resolve({ code, signal, stdout, stderr, timedOut, wallMs: (exitedAt ?? performance.now()) - started });
    });
  });
}

/** A clean, runner-like environment (as __tests__/helpers/runner.ts builds it) with fresh file-command files. */
function runnerEnv(runnerTemp, inputs) {
  const commandsDir = fs.mkdtempSync(path.join(runnerTemp, '..', `${path.basename(runnerTemp)}-cmd-`));
  tempDirs.push(commandsDir);
  const files = {
    output: path.join(commandsDir, 'github_output'),
    state: path.join(commandsDir, 'github_state'),
    summary: path.join(commandsDir, 'step_summary'),
    env: path.join(commandsDir, 'github_env'),
  };
  for (const file of Object.values(files)) fs.writeFileSync(file, '');
  const env = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? os.homedir(),
    GITHUB_ACTIONS: 'true',
    CI: 'true',
    GITHUB_OUTPUT: files.output,
    GITHUB_STATE: files.state,
    GITHUB_STEP_SUMMARY: files.summary,
    GITHUB_ENV: files.env,
    RUNNER_TEMP: runnerTemp,
    RUNNER_OS: 'Linux',
    GITHUB_RUN_ID: '4242424242',
    GITHUB_RUN_ATTEMPT: '1',
    GITHUB_JOB: 'mcp-jobs-bench',
    GITHUB_WORKFLOW: 'mcp-jobs bench',
    GITHUB_REPOSITORY: 'octo-org/mcp-jobs-bench',
    GITHUB_SHA: '0123456789abcdef0123456789abcdef01234567',
    GITHUB_REF: 'refs/heads/main',
  };
  for (const [name, value] of Object.entries(inputs)) env[`INPUT_${name.replace(/ /g, '_').toUpperCase()}`] = value;
  return { env, files };
}

const defaultsCache = new Map();
/** Runs `node dist/<entry>/index.js` like a runner step; returns the process result plus parsed outputs. */
async function runEntry(entry, runnerTemp, inputs, opts = {}) {
  if (!defaultsCache.has(entry)) defaultsCache.set(entry, actionDefaults(entry));
  const { env, files } = runnerEnv(runnerTemp, { ...defaultsCache.get(entry), ...inputs });
  const result = await runNode([path.join(ROOT, 'dist', entry, 'index.js')], { ...opts, env });
  return { ...result, outputs: parseFileCommands(fs.readFileSync(files.output, 'utf8')) };
}

function describe(what, result) {
  return `${what}: exit ${result.code}${result.signal ? ` (${result.signal})` : ''}${result.timedOut ? ' (timed out)' : ''}\n--- stdout ---\n${result.stdout}\n--- stderr ---\n${result.stderr}`;
}

// ---------------------------------------------------------------------------------------------
// The fixture server
// ---------------------------------------------------------------------------------------------

async function startFixture() {
  const child = spawn(process.execPath, ['--import', EXIT_WITH_PARENT, FIXTURE], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? os.homedir(),
      PORT: '0',
      FIXTURE_POLL_INTERVAL: String(FIXTURE_POLL_MS),
    },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  liveChildren.add(child);
  const completed = new Map(); // taskId → epoch ms
  const waiters = new Map(); // taskId → resolve
  let stderr = '';
  let buffer = '';
  let onListening;
  const listening = new Promise((resolve, reject) => {
    onListening = resolve;
    child.once('exit', (code) => reject(new BenchFailure(`fixture server exited (${code}) early:\n${stderr}`)));
    setTimeout(() => reject(new BenchFailure(`fixture server did not start:\n${stderr}`)), 15_000).unref();
  });
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk) => {
    stderr += chunk;
  });
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (chunk) => {
    buffer += chunk;
    let nl;
    while ((nl = buffer.indexOf('\n')) !== -1) {
      const line = buffer.slice(0, nl);
      buffer = buffer.slice(nl + 1);
      const [event, a, b] = line.split(' ');
      if (event === 'LISTENING') onListening(Number(a));
      if (event === 'COMPLETED') {
        completed.set(a, Number(b));
        waiters.get(a)?.(Number(b));
        waiters.delete(a);
      }
    }
  });
  child.once('exit', () => liveChildren.delete(child));
  const port = await listening;
  return {
    port,
    url: `http://127.0.0.1:${port}/mcp`,
    base: `http://127.0.0.1:${port}`,
    stderr: () => stderr,
    /** The server's completion time of a task (waits up to `timeoutMs` for the COMPLETED line). */
    completedAt(taskId, timeoutMs = 5000) {
      if (completed.has(taskId)) return Promise.resolve(completed.get(taskId));
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters.delete(taskId);
          reject(new BenchFailure(`the fixture never reported COMPLETED ${taskId}`));
        }, timeoutMs);
        waiters.set(taskId, (at) => {
          clearTimeout(timer);
          resolve(at);
        });
      });
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(timer);
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Measurements
// ---------------------------------------------------------------------------------------------

const slowInputs = (server) => ({
  server: server.url,
  tool: 'slow',
  arguments: JSON.stringify({ durationMs: SLOW_MS }),
});

async function submitJob(server, runnerTemp) {
  const result = await runEntry('submit', runnerTemp, slowInputs(server));
  const jobId = result.outputs['job-id'];
  const taskId = result.outputs['task-id'];
  if (result.code !== 0 || !jobId || !taskId || result.outputs.status !== 'running') {
    throw new BenchFailure(describe('submit', result));
  }
  return { ...result, jobId, taskId };
}

/** 1. Completion-detection latency of a separate wait process. */
async function measureDetection(server, runnerTemp) {
  const rows = [];
  const finishedJobs = [];
  for (let i = 0; i < RUNS; i++) {
    const { jobId, taskId } = await submitJob(server, runnerTemp);
    const completedLine = new RegExp(`^${jobId}: completed\\b`, 'm');
    let detectedAt;
    const wait = await runEntry(
      'wait',
      runnerTemp,
      { 'job-id': jobId },
      {
        onData: (_chunk, stdout) => {
          if (detectedAt === undefined && completedLine.test(stdout)) detectedAt = Date.now();
        },
      },
    );
    if (wait.code !== 0 || wait.outputs.status !== 'completed' || detectedAt === undefined) {
      throw new BenchFailure(describe(`wait ${jobId} did not complete`, wait));
    }
    const serverAt = await server.completedAt(taskId);
    rows.push(detectedAt - serverAt);
    finishedJobs.push(jobId);
    process.stdout.write('.');
  }
  process.stdout.write('\n');
  return { latencies: rows, finishedJobs };
}

/** 2. submit vs the minimal client (interleaved runs; one discarded warm-up each). */
async function measureSubmit(server, runnerTemp) {
  const submitMs = [];
  const minimalMs = [];
  const rawMs = [];
  const minimal = async (mode) => {
    const { env } = runnerEnv(runnerTemp, {});
    const result = await runNode([MINIMAL, server.url, 'slow', JSON.stringify({ durationMs: SLOW_MS }), mode], { env });
    if (result.code !== 0 || !/^TASK \S+/m.test(result.stdout))
      throw new BenchFailure(describe(`minimal ${mode}`, result));
    return result.wallMs;
  };
  await submitJob(server, runnerTemp);
  await minimal('ext-tasks');
  await minimal('raw');
  for (let i = 0; i < RUNS; i++) {
    submitMs.push((await submitJob(server, runnerTemp)).wallMs);
    minimalMs.push(await minimal('ext-tasks'));
    rawMs.push(await minimal('raw'));
    process.stdout.write('.');
  }
  process.stdout.write('\n');
  return { submitMs, minimalMs, rawMs };
}

/** 3. wait on a finished job vs `node -e ''`, and one HTTP round trip to the fixture. */
async function measureWaitFromRecord(server, runnerTemp, finishedJobs) {
  const waitMs = [];
  const bareMs = [];
  const { env: bareEnv } = runnerEnv(runnerTemp, {});
  const bare = async () => {
    const result = await runNode(['-e', ''], { env: bareEnv });
    if (result.code !== 0) throw new BenchFailure(describe("node -e ''", result));
    return result.wallMs;
  };
  const waitDone = async (jobId) => {
    const result = await runEntry('wait', runnerTemp, { 'job-id': jobId });
    if (
      result.code !== 0 ||
      result.outputs.status !== 'completed' ||
      !/answered from the job record/.test(result.stdout)
    ) {
      throw new BenchFailure(describe(`wait on finished ${jobId}`, result));
    }
    return result.wallMs;
  };
  await bare();
  await waitDone(finishedJobs[0]);
  for (let i = 0; i < RUNS; i++) {
    bareMs.push(await bare());
    waitMs.push(await waitDone(finishedJobs[i % finishedJobs.length]));
    process.stdout.write('.');
  }
  process.stdout.write('\n');

  // One HTTP round trip: plain fetch of the fixture's out-of-band endpoint (first one opens the connection).
  const rttMs = [];
  let coldMs;
  for (let i = 0; i <= RUNS; i++) {
    const started = performance.now();
    const response = await fetch(`${server.base}/_fixture/tasks`);
    await response.arrayBuffer();
    if (!response.ok) throw new BenchFailure(`GET /_fixture/tasks answered ${response.status}`);
    const took = performance.now() - started;
    if (i === 0) coldMs = took;
    else rttMs.push(took);
  }
  return { waitMs, bareMs, rttMs, coldMs };
}

/** 4. Bundle sizes. */
function measureSizes() {
  const dirSize = (dir) => {
    let total = 0;
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      total += entry.isDirectory() ? dirSize(full) : fs.statSync(full).size;
    }
    return total;
  };
  const rows = ENTRIES.map((entry) => {
    const dir = path.join(ROOT, 'dist', entry);
    const index = fs.statSync(path.join(dir, 'index.js')).size;
    const js = fs
      .readdirSync(dir)
      .filter((f) => f.endsWith('.js'))
      .reduce((sum, f) => sum + fs.statSync(path.join(dir, f)).size, 0);
    return { entry, index, js, dir: dirSize(dir) };
  });
  return { rows, total: dirSize(path.join(ROOT, 'dist')) };
}

// ---------------------------------------------------------------------------------------------
// Report
// ---------------------------------------------------------------------------------------------

function table(headers, rows) {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
  const line = (cells) => cells.map((c, i) => String(c).padEnd(widths[i])).join('  ');
  return [line(headers), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

function report({ detection, submit, waitRecord, sizes }) {
  const out = [];
  out.push('');
  out.push(`mcp-jobs benchmark — node ${process.version}, ${os.cpus().length} CPU(s), ${RUNS} runs per measurement`);
  out.push('');

  // 1
  const lat = detection.latencies;
  const p50 = percentile(lat, 50);
  out.push(
    `1. Completion detection by a separate wait process (slow ${SLOW_MS} ms, fixture pollInterval ${FIXTURE_POLL_MS} ms)`,
  );
  out.push('   latency = parent sees "<jobId>: completed" on wait stdout − server COMPLETED time');
  out.push(
    table(
      ['metric', 'value', 'target'],
      [
        ['p50', ms(p50), `≤ ${TARGETS.detectP50Ms} ms ${mark(p50 <= TARGETS.detectP50Ms)}`],
        ['p95', ms(percentile(lat, 95)), ''],
        ['min', ms(Math.min(...lat)), ''],
        ['max', ms(Math.max(...lat)), ''],
      ],
    ),
  );
  out.push(`   samples: ${lat.map((v) => v.toFixed(0)).join(', ')}`);
  out.push('');

  // 2
  const sub = median(submit.submitMs);
  const min = median(submit.minimalMs);
  const raw = median(submit.rawMs);
  const ratio = sub / min;
  out.push('2. Submit wall time (process spawn → exit, node startup included), median');
  out.push(
    table(
      ['process', 'median', 'min', 'max', 'ratio to minimal', 'target'],
      [
        [
          'node dist/submit/index.js',
          ms(sub),
          ms(Math.min(...submit.submitMs)),
          ms(Math.max(...submit.submitMs)),
          `${ratio.toFixed(2)}×`,
          `≤ ${TARGETS.submitRatio}× ${mark(ratio <= TARGETS.submitRatio)}`,
        ],
        [
          'bench/minimal-submit.mjs (ext-tasks)',
          ms(min),
          ms(Math.min(...submit.minimalMs)),
          ms(Math.max(...submit.minimalMs)),
          '1.00×',
          '(baseline)',
        ],
        [
          'bench/minimal-submit.mjs (raw request)',
          ms(raw),
          ms(Math.min(...submit.rawMs)),
          ms(Math.max(...submit.rawMs)),
          `${(raw / min).toFixed(2)}×`,
          '(for reference)',
        ],
      ],
    ),
  );
  out.push(`   submit − minimal: ${ms(sub - min)}`);
  out.push('');

  // 3
  const w = median(waitRecord.waitMs);
  const bare = median(waitRecord.bareMs);
  const rtt = median(waitRecord.rttMs);
  const budget = TARGETS.waitRecordRatio * bare + rtt;
  out.push('3. wait on an already finished job (answered from the record) vs a bare node, median');
  out.push(
    table(
      ['process', 'median', 'min', 'max'],
      [
        [
          'node dist/wait/index.js (finished job)',
          ms(w),
          ms(Math.min(...waitRecord.waitMs)),
          ms(Math.max(...waitRecord.waitMs)),
        ],
        ["node -e ''", ms(bare), ms(Math.min(...waitRecord.bareMs)), ms(Math.max(...waitRecord.bareMs))],
        [
          'HTTP round trip (fetch /_fixture/tasks, warm)',
          ms(rtt),
          ms(Math.min(...waitRecord.rttMs)),
          ms(Math.max(...waitRecord.rttMs)),
        ],
        ['HTTP round trip (first fetch, new connection)', ms(waitRecord.coldMs), '', ''],
      ],
    ),
  );
  out.push(`   ratio wait / bare node: ${(w / bare).toFixed(2)}×, difference: ${ms(w - bare)}`);
  out.push(`   target: wait ≤ ${TARGETS.waitRecordRatio} × bare + one round trip = ${ms(budget)} ${mark(w <= budget)}`);
  out.push('');

  // 4
  out.push('4. Bundle sizes (dist/)');
  out.push(
    table(
      ['entry', 'index.js', 'all .js (with chunks)', 'directory'],
      sizes.rows.map((r) => [`dist/${r.entry}`, kib(r.index), kib(r.js), kib(r.dir)]),
    ),
  );
  out.push(`   total dist/: ${kib(sizes.total)} (${sizes.total} bytes)`);
  out.push('');
  process.stdout.write(`${out.join('\n')}\n`);
}

// ---------------------------------------------------------------------------------------------
// Main
// ---------------------------------------------------------------------------------------------

function cleanup() {
  for (const child of liveChildren) {
    try {
      child.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
  liveChildren.clear();
  for (const dir of tempDirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
}
process.once('exit', cleanup);
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => {
    cleanup();
    process.exit(130);
  });
}

async function main() {
  for (const entry of ENTRIES) {
    if (!fs.existsSync(path.join(ROOT, 'dist', entry, 'index.js'))) {
      throw new BenchFailure(`dist/${entry}/index.js is missing: run npm run build first`);
    }
  }
  const watchdog = setTimeout(() => {
    process.stderr.write(`bench: still running after ${OVERALL_TIMEOUT_MS / 1000} s, giving up\n`);
    cleanup();
    process.exit(1);
  }, OVERALL_TIMEOUT_MS);
  watchdog.unref();

  const server = await startFixture();
  try {
    const runnerTemp = tempDir('mcp-jobs-bench-runner-temp-');
    process.stdout.write(`fixture on ${server.url}\n1. detection `);
    const detection = await measureDetection(server, runnerTemp);
    process.stdout.write('2. submit    ');
    const submit = await measureSubmit(server, runnerTemp);
    process.stdout.write('3. wait/rec  ');
    const waitRecord = await measureWaitFromRecord(server, runnerTemp, detection.finishedJobs);
    const sizes = measureSizes();
    report({ detection, submit, waitRecord, sizes });
  } finally {
    await server.stop();
  }
}

try {
  const started = performance.now();
  await main();
  process.stdout.write(`bench finished in ${((performance.now() - started) / 1000).toFixed(1)} s\n`);
} catch (error) {
  process.stdout.write('\n');
  process.stderr.write(`bench: ${error instanceof BenchFailure ? error.message : (error?.stack ?? error)}\n`);
  process.exitCode = 1;
} finally {
  cleanup();
}
