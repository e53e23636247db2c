/**
 * Checks the v2 task fixture (`__tests__/fixtures/v2-task-server.mjs`) with the official MCP conformance suite
 * (`@modelcontextprotocol/conformance` 0.2.0-alpha.12, installed in `tools/conformance` together with a Node 22
 * binary from npm: the suite needs Node >= 22, the project runs on Node 20).
 *
 * `tools/conformance/run.mjs` runs each scenario with the suite's CLI under that Node 22 binary and reports the
 * checks of each; this test starts the fixture, runs every tasks-extension server scenario plus the core
 * 2026-07-28 scenarios the fixture must pass, prints a pass/fail list and requires every one to pass.
 * Setup: `npm ci --prefix tools/conformance --no-audit --no-fund` (done by the root postinstall).
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { REPO_ROOT, startV2FixtureServer, type RunningServer } from '../helpers/servers.js';

const RUNNER = path.join(REPO_ROOT, 'tools', 'conformance', 'run.mjs');

/** The tasks-extension server scenarios of @modelcontextprotocol/conformance 0.2.0-alpha.12. */
const KNOWN_TASKS_SCENARIOS = [
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
/** The suite only stubs this one out (one SKIPPED check: "pending subscriptions/listen rewrite"). */
const SUITE_STUBS = ['tasks-status-notifications'];
const CORE_SCENARIOS = ['server-stateless', 'http-header-validation', 'dns-rebinding-protection', 'tools-list'];

interface Check {
  id: string;
  name: string;
  status: 'SUCCESS' | 'FAILURE' | 'WARNING' | 'SKIPPED' | 'INFO';
  errorMessage?: string;
}
interface ScenarioResult {
  scenario: string;
  specVersion: string | null;
  status: 'pass' | 'fail' | 'skipped';
  exitCode: number;
  durationMs: number;
  checks: Check[];
  output: string;
}
interface RunReport {
  suiteVersion: string;
  node: string;
  url: string;
  tasksScenarios: string[];
  results: ScenarioResult[];
}

function runNode(args: string[], timeoutMs: number): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, stdout, stderr });
    });
  });
}

function describeResult(result: ScenarioResult): string {
  const count = (status: Check['status']) => result.checks.filter((check) => check.status === status).length;
  const line =
    `${result.status.toUpperCase().padEnd(7)} ${result.scenario.padEnd(30)} ` +
    `${count('SUCCESS')} passed, ${count('FAILURE')} failed, ${count('WARNING')} warnings, ${count('SKIPPED')} skipped` +
    ` (${result.durationMs} ms)`;
  const problems = result.checks
    .filter((check) => check.status === 'FAILURE' || check.status === 'WARNING')
    .map((check) => `\n          ${check.status} ${check.id}: ${check.errorMessage ?? ''}`);
  const output = result.status === 'fail' && result.checks.length === 0 ? `\n${result.output}` : '';
  return line + problems.join('') + output;
}

describe('v2 task fixture against the official MCP conformance suite', () => {
  let server: RunningServer | undefined;
  let report: RunReport;

  beforeAll(async () => {
    const check = await runNode([RUNNER, '--check'], 30_000);
    if (check.code !== 0) {
      throw new Error(
        check.stderr.trim() ||
          `tools/conformance/run.mjs --check failed (exit ${check.code}). ` +
            'Install the suite with: npm ci --prefix tools/conformance --no-audit --no-fund',
      );
    }
    server = await startV2FixtureServer();
    const run = await runNode([RUNNER, '--url', server.url, '--json', '--concurrency', '5'], 150_000);
    try {
      report = JSON.parse(run.stdout) as RunReport;
    } catch {
      throw new Error(`conformance runner failed (exit ${run.code}):\n${run.stdout}\n${run.stderr}`);
    }
    const tasks = report.results.filter((result) => result.scenario.startsWith('tasks-'));
    const core = report.results.filter((result) => !result.scenario.startsWith('tasks-'));
    console.log(
      [
        `@modelcontextprotocol/conformance ${report.suiteVersion} on Node ${report.node} against ${report.url}`,
        'tasks extension (io.modelcontextprotocol/tasks) scenarios:',
        ...tasks.map((result) => `  ${describeResult(result)}`),
        'core 2026-07-28 scenarios:',
        ...core.map((result) => `  ${describeResult(result)}`),
      ].join('\n'),
    );
  }, 180_000);

  afterAll(async () => {
    await server?.stop();
  });

  it('the installed suite lists every known tasks-extension server scenario', () => {
    expect(report.suiteVersion).toBe('0.2.0-alpha.12');
    expect(report.node).toMatch(/^v(2[2-9]|[3-9]\d)\./);
    expect(report.tasksScenarios).toEqual(expect.arrayContaining(KNOWN_TASKS_SCENARIOS));
  });

  it('passes every tasks-extension scenario (the suite-stubbed one is skipped by the suite itself)', () => {
    const tasks = report.results.filter((result) => result.scenario.startsWith('tasks-'));
    expect(tasks.map((result) => result.scenario).sort()).toEqual([...report.tasksScenarios].sort());
    const outcome = Object.fromEntries(tasks.map((result) => [result.scenario, result.status]));
    const expected = Object.fromEntries(
      report.tasksScenarios.map((scenario) => [scenario, SUITE_STUBS.includes(scenario) ? 'skipped' : 'pass']),
    );
    expect(outcome).toEqual(expected);
    for (const result of tasks) {
      if (result.status === 'pass')
        expect(result.checks.find((c) => c.id === 'wire-schema-valid')?.status).toBe('SUCCESS');
    }
  });

  it('passes the core 2026-07-28 scenarios it is meant to (stateless envelope, headers, DNS rebinding, tools/list)', () => {
    const core = report.results.filter((result) => CORE_SCENARIOS.includes(result.scenario));
    expect(Object.fromEntries(core.map((result) => [result.scenario, result.status]))).toEqual(
      Object.fromEntries(CORE_SCENARIOS.map((scenario) => [scenario, 'pass'])),
    );
  });
});
