/**
 * Against a HOSTILE server, end to end: everything the server says (status messages, result and error text, JSON-RPC
 * error messages, tool names, task IDs) carries workflow commands and Markdown/HTML. The built entries must write no
 * workflow command but their own, and a job summary where the server's text is only text. Secrets in the server
 * URL stay secret: credentials are refused without echo, query values are masked everywhere.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { readRecord, stateDirOf } from '../helpers/jobs.js';
import {
  describeRun,
  parseWorkflowCommands,
  runEntry,
  runnerCommandLines,
  type RunEntryOptions,
  type RunEntryResult,
} from '../helpers/runner.js';
import { startHostileServer, type RunningServer } from '../helpers/servers.js';

let server: RunningServer;
let root: string;

beforeAll(async () => {
  server = await startHostileServer();
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'mcp-jobs-e2e-hostile-'));
});
afterAll(async () => {
  await server?.stop();
  if (root) fs.rmSync(root, { recursive: true, force: true, maxRetries: 5 });
});

let runs = 0;
function runnerTemp(): string {
  const dir = path.join(root, `runner-${++runs}`);
  fs.mkdirSync(dir);
  return dir;
}

/** Runs an entry in a RUNNER_TEMP of its own. */
function run(entry: string, opts: RunEntryOptions): Promise<RunEntryResult> {
  return runEntry(entry, { runnerTemp: runnerTemp(), ...opts });
}

/** The commands mcp-jobs issues, all through @actions/core, each at the start of its own line. */
const OURS = /^::(add-mask|debug|error|warning|notice|group|endgroup)( [^:]*)?::/;

/**
 * What the runner would run of this step's output: only mcp-jobs' own commands, none the server smuggled in. The
 * server's payloads use the title `pwned`, mask `done` and `mid-line`, stop commands with `tok`.
 */
function expectNoInjectedCommand(result: RunEntryResult): void {
  const stray = runnerCommandLines(`${result.stdout}\n${result.stderr}`).filter((line) => !OURS.test(line));
  expect({ stray, run: stray.length === 0 ? '' : describeRun(result) }).toEqual({ stray: [], run: '' });
  expect(result.stdout).not.toContain('##[');
  const commands = parseWorkflowCommands(result.stdout);
  const injected = commands.filter(
    (c) =>
      c.properties.title === 'pwned' ||
      (c.command === 'add-mask' && /done|mid-line|tok/.test(c.message)) ||
      (c.command === 'warning' && c.message === 'x') ||
      /^(stop-commands|tok)$/.test(c.command),
  );
  expect(injected).toEqual([]);
  // An annotation's text is one line: nothing in it can pass for a command or a log line of its own.
  for (const c of commands.filter((c) => ['error', 'warning', 'notice'].includes(c.command))) {
    expect({ message: c.message, lines: c.message.split(/\r\n|\r|\n/).length }).toEqual({
      message: c.message,
      lines: 1,
    });
  }
  // A step that carries on runs its own commands: the server cannot stop them (`::stop-commands::`).
  expect(commands.some((c) => c.command === 'stop-commands')).toBe(false);
}

/** The ASCII punctuation of `text` (but `-`, harmless inline) not escaped by a backslash. */
function unescapedPunctuation(text: string): string[] {
  return text.replace(/\\[\s\S]/g, '').match(/[!-,./:-@[-`{-~]/g) ?? [];
}

/** The job summary shows the server's text only as text: no HTML, link, image or extra table cell. */
function expectInertSummary(summary: string): void {
  expect(summary).toMatch(/^### mcp-jobs/);
  // What is left when every escaped character is taken out: none of the server's markup may be in it.
  const unescaped = summary.replace(/\\[\s\S]/g, '');
  for (const raw of ['<img', '<script', '](', '![', '`code`', '**bold**', '<b>']) {
    expect({ raw, found: unescaped.includes(raw) }).toEqual({ raw, found: false });
  }
  for (const row of summary.split('\n').filter((l) => l.startsWith('| `job_'))) {
    expect(row.split(/(?<!\\)\|/)).toHaveLength(7);
  }
  for (const reason of summary.split('\n').filter((l) => l.startsWith('- `job_'))) {
    expect(unescapedPunctuation(reason.replace(/^- `job_[a-z2-7]+`: /, ''))).toEqual([]);
  }
}

describe('a hostile server', () => {
  it('submit, then wait in another step: status messages and the result cannot issue commands', async () => {
    const temp = runnerTemp();
    const submit = await run('submit', { runnerTemp: temp, inputs: { server: server.url, tool: 'report' } });
    expect({ code: submit.code, run: submit.code === 0 ? '' : describeRun(submit) }).toEqual({ code: 0, run: '' });
    expectNoInjectedCommand(submit);
    expectInertSummary(submit.summary);
    const jobId = submit.outputs['job-id']!;

    const wait = await run('wait', { runnerTemp: temp, inputs: { 'job-id': jobId } });
    expect({ code: wait.code, run: wait.code === 0 ? '' : describeRun(wait) }).toEqual({ code: 0, run: '' });
    expect(wait.outputs.status).toBe('completed');
    expectNoInjectedCommand(wait);
    expectInertSummary(wait.summary);
    // The status messages were logged as they came, each whole on its line (its end, the markup, is on it), inert.
    const statusLines = wait.stdout.split('\n').filter((l) => l.startsWith(`${jobId}: running: working (`));
    expect(statusLines.length).toBeGreaterThanOrEqual(3);
    for (const line of statusLines)
      expect(line).toMatch(/^job_\w+: running: working \(\d+\)(\\n|\\r| ).*<img.*<\/script>$/);
    // The result is data: outputs and the result file carry it exactly as the server sent it.
    expect(wait.outputs.text).toContain('report done\n::error title=pwned::injected');
    // The server's task ID (an injection too) is shown escaped in the summary.
    const taskId = readRecord(temp, jobId).remote.taskId as string;
    expect(taskId).toContain('\n::error');
    expect(wait.summary).toContain('\\\\n\\:\\:error title\\=pwned\\:\\:task-id \\<b\\>id\\<\\/b\\></code>');
  });

  it('the root action on a tool whose error (isError) text is hostile: a one-line annotation, an inert summary', async () => {
    const call = await run('call', { inputs: { server: server.url, tool: 'explode' } });
    expect(call.code).toBe(1);
    expect(call.outputs.status).toBe('failed');
    expectNoInjectedCommand(call);
    expectInertSummary(call.summary);
    const errors = parseWorkflowCommands(call.stdout).filter((c) => c.command === 'error');
    expect(errors.map((c) => c.properties.title)).toEqual(['mcp-jobs: job failed']);
    expect(errors[0]!.message).toContain('failed: exploded\\n::error title=pwned::injected\\n::add-mask::done');
    expect(call.summary).toContain('exploded\\\\n\\:\\:error title\\=pwned\\:\\:injected');
  });

  it('a hostile JSON-RPC error at submit', async () => {
    const submit = await run('submit', { inputs: { server: server.url, tool: 'reject' } });
    expect(submit.code).toBe(1);
    expectNoInjectedCommand(submit);
    expectInertSummary(submit.summary);
    const errors = parseWorkflowCommands(submit.stdout).filter((c) => c.command === 'error');
    expect(errors.map((c) => c.properties.title)).toEqual(['mcp-jobs submit: SERVER_ERROR']);
    expect(errors[0]!.message).toContain('rejected\\n::error title=pwned::injected');
    expect(submit.summary).toContain('rejected\\\\n\\:\\:error');
  });

  it('hostile tool names, listed when the tool is not found', async () => {
    const submit = await run('submit', { inputs: { server: server.url, tool: 'no-such-tool' } });
    expect(submit.code).toBe(1);
    expectNoInjectedCommand(submit);
    expectInertSummary(submit.summary);
    const errors = parseWorkflowCommands(submit.stdout).filter((c) => c.command === 'error');
    expect(errors.map((c) => c.properties.title)).toEqual(['mcp-jobs submit: TOOL_NOT_FOUND']);
    expect(errors[0]!.message).toContain('evil\\n::error title=pwned::injected');
    expect(submit.summary).toContain('evil\\\\n\\:\\:error title\\=pwned');
  });
});

describe('secrets in the server URL', () => {
  const TOKEN = 's3cret-url-token';

  /** The log as the runner shows it: every value of an add-mask command is masked in the lines after it. */
  function shownLog(stdout: string): string {
    const masks: string[] = [];
    const shown: string[] = [];
    for (const line of stdout.split(/\r\n|\r|\n/)) {
      const mask = /^::add-mask::(.*)$/.exec(line);
      if (mask) masks.push(mask[1]!.replace(/%0D/g, '\r').replace(/%0A/g, '\n').replace(/%25/g, '%'));
      else shown.push(masks.reduce((text, secret) => text.split(secret).join('***'), line));
    }
    return shown.join('\n');
  }

  function expectHidden(result: RunEntryResult, secret: string): void {
    const places = {
      log: shownLog(result.stdout),
      stderr: result.stderr,
      outputs: JSON.stringify(result.outputs),
      summary: result.summary,
    };
    for (const [place, text] of Object.entries(places)) {
      expect({ place, leaked: text.includes(secret) }).toEqual({ place, leaked: false });
    }
  }

  it('masks query values in submit, and in cancel, wait and post, which read the URL from the job record', async () => {
    const temp = runnerTemp();
    const url = `${server.url}?token=${TOKEN}&v=1`;
    const submit = await run('submit', {
      runnerTemp: temp,
      inputs: {
        server: url,
        tool: 'report',
        arguments: JSON.stringify({ holdMs: 60_000, items: [{ token: 'item-secret-1' }, { token: 'item-secret-2' }] }),
        redact: 'items[].token, items[].missing',
      },
    });
    expect({ code: submit.code, run: submit.code === 0 ? '' : describeRun(submit) }).toEqual({ code: 0, run: '' });
    // The URL is logged ("submitting report to …"), masked before that: the runner shows *** for the query.
    expect(shownLog(submit.stdout)).toMatch(/submitting report to http:\/\/127\.0\.0\.1:\d+\/mcp\?\*\*\*/);
    expectHidden(submit, TOKEN);
    for (const secret of ['item-secret-1', 'item-secret-2']) expectHidden(submit, secret);
    const jobId = submit.outputs['job-id']!;
    expect(readRecord(temp, jobId).arguments).toEqual({ holdMs: 60_000, items: [{ token: '***' }, { token: '***' }] });
    // A redact path that names nothing is a warning that names it.
    const warnings = parseWorkflowCommands(submit.stdout).filter((c) => c.command === 'warning');
    expect(warnings.map((c) => c.message)).toEqual([expect.stringContaining("Input 'redact': 'items[].missing'")]);

    // cancel and wait have no server input: they mask the URL of the record before they log anything.
    const cancel = await run('cancel', { runnerTemp: temp, inputs: { 'job-id': jobId } });
    expect({ code: cancel.code, run: cancel.code === 0 ? '' : describeRun(cancel) }).toEqual({ code: 0, run: '' });
    expect(parseWorkflowCommands(cancel.stdout)).toContainEqual({
      command: 'add-mask',
      properties: {},
      message: TOKEN,
    });
    expectHidden(cancel, TOKEN);
    const wait = await run('wait', { runnerTemp: temp, inputs: { 'job-id': jobId } });
    expect(wait.outputs.status).toBe('canceled');
    expect(parseWorkflowCommands(wait.stdout)).toContainEqual({ command: 'add-mask', properties: {}, message: TOKEN });
    expectHidden(wait, TOKEN);

    // The post step of a wait whose main step died cancels the task: it names the task and reaches the server.
    const second = await run('submit', { runnerTemp: temp, inputs: { server: url, tool: 'report' } });
    const post = await run('post', {
      runnerTemp: temp,
      state: { entry: 'wait', 'job-id': second.outputs['job-id']!, instance: 'default', 'state-dir': stateDirOf(temp) },
      inputs: {},
    });
    expect({ code: post.code, run: post.code === 0 ? '' : describeRun(post) }).toEqual({ code: 0, run: '' });
    expect(readRecord(temp, second.outputs['job-id']!).status).toBe('canceled');
    expect(parseWorkflowCommands(post.stdout)).toContainEqual({ command: 'add-mask', properties: {}, message: TOKEN });
    expectHidden(post, TOKEN);
  });

  it('masks a query value that an error message repeats, in the annotation and the summary', async () => {
    // Port 9 (discard) on loopback: nothing listens, so the error names the URL, token included.
    const submit = await run('submit', {
      inputs: { server: `http://127.0.0.1:9/mcp?token=${TOKEN}`, tool: 'report', 'timeout-minutes': '2s' },
    });
    expect(submit.code).toBe(1);
    const errors = parseWorkflowCommands(submit.stdout).filter((c) => c.command === 'error');
    expect(errors.map((c) => c.properties.title)).toEqual(['mcp-jobs submit: SERVER_UNREACHABLE']);
    expectHidden(submit, TOKEN);
    expect(submit.summary).toContain('\\?\\*\\*\\*');
  });

  it.each([
    ['user:password@', 'http://ann:hunter2-pass@127.0.0.1:9/mcp'],
    ['a token as the user name', 'http://hunter2-pass@127.0.0.1:9/mcp'],
    ['credentials without a scheme', 'ann:hunter2-pass@127.0.0.1:9/mcp'],
    ['an unparsable URL', 'http://ann:hunter2-pass@[127.0.0.1/mcp'],
  ])('refuses %s without echoing it', async (_name, url) => {
    const submit = await run('submit', { inputs: { server: url, tool: 'report' } });
    expect(submit.code).toBe(1);
    const errors = parseWorkflowCommands(submit.stdout).filter((c) => c.command === 'error');
    expect(errors.map((c) => c.properties.title)).toEqual(['mcp-jobs submit: INVALID_INPUT']);
    expect(errors[0]!.message).toMatch(/^Input 'server' /);
    for (const text of [submit.stdout, submit.stderr, submit.summary, JSON.stringify(submit.outputs)]) {
      expect(text).not.toContain('hunter2');
    }
  });
});
