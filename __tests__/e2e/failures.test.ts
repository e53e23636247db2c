/**
 * Every bad input and fault named in the foundation issue, end to end: each must give a clear error annotation
 * naming the input or the cause, exit status 1, and leave every existing record as it was.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import fs from 'node:fs';
import path from 'node:path';
import { readRecord, recordPath } from '../helpers/jobs.js';
import { describeRun, makeRunnerTemp, runEntry, type RunEntryResult } from '../helpers/runner.js';
import { startFaultProxy } from '../helpers/fault-proxy.js';
import { freePort, startFixtureServer, type RunningServer } from '../helpers/servers.js';

let server: RunningServer;

beforeAll(async () => {
  server = await startFixtureServer({ pollIntervalMs: 200 });
});
afterAll(async () => {
  await server?.stop();
});

/** The step's error annotations, joined. */
function errors(run: RunEntryResult): string {
  return run.commands
    .filter((c) => c.command === 'error')
    .map((c) => `${c.properties.title ?? ''}: ${c.message}`)
    .join('\n');
}

function expectFailure(run: RunEntryResult, pattern: RegExp): void {
  expect({ code: run.code, errors: errors(run) }).toEqual({ code: 1, errors: expect.stringMatching(pattern) });
  // A user error is never reported as a bug in mcp-jobs.
  expect(errors(run)).not.toContain('internal error');
}

describe('bad inputs', () => {
  const submitCases: Array<[string, Record<string, string>, RegExp]> = [
    ['missing server', { tool: 'slow' }, /Input 'server' is required/],
    ['missing tool', { server: 'http://127.0.0.1:1/mcp' }, /Input 'tool' is required/],
    [
      'a URL that is not http(s)',
      { server: 'ftp://example.test/mcp', tool: 'slow' },
      /Input 'server' must be an http\(s\) URL/,
    ],
    [
      'arguments not JSON',
      { server: 'http://127.0.0.1:1/mcp', tool: 'slow', arguments: '{topic:' },
      /Input 'arguments' is not valid JSON/,
    ],
    [
      'arguments not an object',
      { server: 'http://127.0.0.1:1/mcp', tool: 'slow', arguments: '[1,2]' },
      /Input 'arguments' must be a JSON object, not an array/,
    ],
    [
      'a bad duration',
      { server: 'http://127.0.0.1:1/mcp', tool: 'slow', 'task-ttl': '10 parsecs' },
      /Input 'task-ttl' must be a duration/,
    ],
    [
      'a bad timeout',
      { server: 'http://127.0.0.1:1/mcp', tool: 'slow', 'timeout-minutes': 'soon' },
      /Input 'timeout-minutes' must be a duration/,
    ],
    [
      'a header line without a colon',
      { server: 'http://127.0.0.1:1/mcp', tool: 'slow', headers: 'X-Ok: 1\nBearer hunter2' },
      /Input 'headers' line 2 is not of the form 'Name: value'/,
    ],
  ];

  it.each(submitCases)('submit: %s', async (_name, inputs, pattern) => {
    const runnerTemp = makeRunnerTemp();
    const run = await runEntry('submit', { runnerTemp, inputs });
    expectFailure(run, pattern);
    expect(run.stdout).not.toContain('hunter2');
    // Input errors are found before anything is recorded.
    expect(fs.existsSync(path.join(runnerTemp, 'mcp-jobs'))).toBe(false);
  });

  it('wait: a bad job-id, an unknown job and latest with no jobs', async () => {
    const runnerTemp = makeRunnerTemp();
    expectFailure(
      await runEntry('wait', { runnerTemp, inputs: { 'job-id': '../../etc/passwd' } }),
      /Input 'job-id' must be a job ID/,
    );
    expectFailure(
      await runEntry('wait', { runnerTemp, inputs: { 'job-id': 'job_doesnotexist0000' } }),
      /JOB_NOT_FOUND.*Input 'job-id': job job_doesnotexist0000 is not in instance 'default'/,
    );
    expectFailure(
      await runEntry('cancel', { runnerTemp, inputs: { 'job-id': 'latest' } }),
      /Input 'job-id' is 'latest', but instance 'default' has no jobs/,
    );
    expectFailure(
      await runEntry('wait', { runnerTemp, inputs: { 'job-id': 'latest', 'cancel-on-timeout': 'yes' } }),
      /Input 'cancel-on-timeout' must be true or false/,
    );
  });

  it('a damaged record is a clear error naming the file, and stays as it was', async () => {
    const runnerTemp = makeRunnerTemp();
    const submit = await runEntry('submit', {
      runnerTemp,
      inputs: { server: server.url, tool: 'slow', arguments: '{"durationMs":100}' },
    });
    const jobId = submit.outputs['job-id']!;
    const file = recordPath(runnerTemp, jobId);
    fs.writeFileSync(file, '{"schemaVersion":1,"jobId":');
    const run = await runEntry('wait', { runnerTemp, inputs: { 'job-id': jobId } });
    expectFailure(
      run,
      new RegExp(`RECORD_INVALID.*Job record ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} is not valid JSON`),
    );
    expect(fs.readFileSync(file, 'utf8')).toBe('{"schemaVersion":1,"jobId":');
  });
});

describe('server and tool faults at submit', () => {
  it('an unknown tool names the tool and lists what the server has', async () => {
    const run = await runEntry('submit', { inputs: { server: server.url, tool: 'no-such-tool' } });
    expectFailure(run, /TOOL_NOT_FOUND.*Input 'tool': the MCP server .* has no tool 'no-such-tool' \(it has: .*slow/);
    expect(run.outputs['job-id']).toMatch(/^job_/);
    expect(readRecord(run.runnerTemp, run.outputs['job-id']!)).toMatchObject({
      status: 'failed',
      error: { code: 'TOOL_NOT_FOUND' },
    });
  });

  it('a tool that forbids tasks (fallback: error)', async () => {
    const run = await runEntry('submit', { inputs: { server: server.url, tool: 'no-task', fallback: 'error' } });
    expectFailure(
      run,
      /TASKS_UNSUPPORTED.*Tool 'no-task' .* does not allow running as a task.*Input 'fallback' is error/,
    );
  });

  it('a server without task support (fallback: error)', async () => {
    const plain = await startFixtureServer({ mode: 'no-tasks' });
    try {
      const run = await runEntry('submit', { inputs: { server: plain.url, tool: 'slow', fallback: 'error' } });
      expectFailure(run, /TASKS_UNSUPPORTED.*does not support tasks for tool calls/);
    } finally {
      await plain.stop();
    }
  });

  it('a server that is not there', async () => {
    const port = await freePort();
    // Submit retries an unreachable server until the job's deadline (or a minute): 2 s here.
    const run = await runEntry('submit', {
      inputs: { server: `http://127.0.0.1:${port}/mcp`, tool: 'slow', 'timeout-minutes': '2s' },
    });
    expectFailure(run, new RegExp(`SERVER_UNREACHABLE.*Cannot reach the MCP server http://127.0.0.1:${port}/mcp`));
    expect(run.stdout).toMatch(/::warning::job_\w+: .*Cannot reach the MCP server.*; retrying until /);
    expect(readRecord(run.runnerTemp, run.outputs['job-id']!)).toMatchObject({
      status: 'failed',
      error: { code: 'SERVER_UNREACHABLE' },
    });
  });

  it.each([
    ['bad-json', /PROTOCOL_ERROR.*sent a reply that is not valid MCP while connecting: .*JSON/],
    ['bad-schema', /PROTOCOL_ERROR.*not valid MCP/],
  ] as const)('a server whose replies are %s', async (mode, pattern) => {
    const broken = await startFixtureServer({ mode });
    try {
      const run = await runEntry('submit', {
        inputs: { server: broken.url, tool: 'slow', arguments: '{"durationMs":100}' },
      });
      expectFailure(run, pattern);
    } finally {
      await broken.stop();
    }
  });
});

describe('faults while waiting', () => {
  it('a task that fails: status failed, is-error, the tool error text, step failed', async () => {
    const runnerTemp = makeRunnerTemp();
    const submit = await runEntry('submit', {
      runnerTemp,
      inputs: { server: server.url, tool: 'fail', arguments: '{"message":"disk quota exceeded","delayMs":200}' },
    });
    const run = await runEntry('wait', { runnerTemp, inputs: { 'job-id': submit.outputs['job-id']! } });
    expect(run.code).toBe(1);
    expect(run.outputs.status).toBe('failed');
    expect(run.outputs['is-error']).toBe('true');
    expect(run.outputs.text).toContain('disk quota exceeded');
    expect(errors(run)).toMatch(/job failed.*failed/);
    const lenient = await runEntry('wait', { runnerTemp, inputs: { 'job-id': 'latest', 'fail-on-error': 'false' } });
    expect(lenient.code).toBe(0);
    expect(lenient.outputs.status).toBe('failed');
  });

  it('the server restarted and lost the session: "the server no longer has task X"', async () => {
    const own = await startFixtureServer();
    try {
      const runnerTemp = makeRunnerTemp();
      const submit = await runEntry('submit', { runnerTemp, inputs: { server: own.url, tool: 'until-cancelled' } });
      const taskId = submit.outputs['task-id']!;
      await own.restart();
      const run = await runEntry('wait', { runnerTemp, inputs: { 'job-id': submit.outputs['job-id']! } });
      expectFailure(run, new RegExp(`TASK_LOST.*server no longer has task ${taskId}`));
      // Only the server ends a job: the record keeps its last status and says why the wait failed.
      expect(run.outputs.status).toBe('running');
      expect(readRecord(runnerTemp, submit.outputs['job-id']!)).toMatchObject({
        status: 'running',
        error: { code: 'TASK_LOST' },
      });
    } finally {
      await own.stop();
    }
  });

  it('an unknown task in a live session is lost too', async () => {
    const runnerTemp = makeRunnerTemp();
    const submit = await runEntry('submit', {
      runnerTemp,
      inputs: { server: server.url, tool: 'slow', arguments: '{"durationMs":100}' },
    });
    const jobId = submit.outputs['job-id']!;
    const file = recordPath(runnerTemp, jobId);
    const record = JSON.parse(fs.readFileSync(file, 'utf8'));
    record.remote.taskId = 'task-that-never-was';
    fs.writeFileSync(file, JSON.stringify(record));
    const run = await runEntry('wait', { runnerTemp, inputs: { 'job-id': jobId } });
    expectFailure(run, /server no longer has task task-that-never-was/);
  });

  it('the server is unreachable: wait retries until the deadline, then fails saying so', async () => {
    const own = await startFixtureServer();
    const runnerTemp = makeRunnerTemp();
    const submit = await runEntry('submit', { runnerTemp, inputs: { server: own.url, tool: 'until-cancelled' } });
    await own.stop();
    const run = await runEntry('wait', {
      runnerTemp,
      inputs: { 'job-id': submit.outputs['job-id']!, 'timeout-minutes': '3s' },
    });
    expectFailure(run, /SERVER_UNREACHABLE.*stayed unreachable for .* until the wait gave up/);
    // It retried with backoff: one warning for the outage, a debug line for each further try.
    expect(run.commands.filter((c) => c.command === 'warning' && /retrying until/.test(c.message))).toHaveLength(1);
    expect(
      run.commands.filter((c) => c.command === 'debug' && /still unreachable/.test(c.message)).length,
    ).toBeGreaterThanOrEqual(1);
    // The job is not terminal: the task may still exist, and a later wait or cancel can still reach it.
    expect(readRecord(runnerTemp, submit.outputs['job-id']!).status).toBe('running');
  });

  it('the server is unreachable for a while, then back: wait retries with backoff, rejoins and finishes', async () => {
    const own = await startFixtureServer();
    const proxy = await startFaultProxy(own.port);
    try {
      const runnerTemp = makeRunnerTemp();
      const submit = await runEntry('submit', {
        runnerTemp,
        inputs: { server: proxy.url, tool: 'slow', arguments: '{"durationMs":2500}' },
      });
      expect(submit.code).toBe(0);
      // Every connection is reset until the wait's polls have failed twice, however slowly it starts. (A cut
      // tasks/result or GET stream is only opened again; a failed poll is what an outage looks like.)
      await proxy.setMode({ kind: 'reset' });
      const mark = proxy.log().length;
      const waiting = runEntry('wait', {
        runnerTemp,
        inputs: { 'job-id': submit.outputs['job-id']!, 'timeout-minutes': '60s' },
      });
      const failedPolls = (): number =>
        proxy.log().filter((r) => r.seq > mark && r.mode === 'reset' && r.rpcMethod === 'tasks/get').length;
      await proxy.waitFor(() => failedPolls() >= 2, 30_000);
      await proxy.setMode({ kind: 'pass' });
      const run = await waiting;
      expect({ code: run.code, run: run.code === 0 ? '' : describeRun(run) }).toEqual({ code: 0, run: '' });
      expect(run.outputs.status).toBe('completed');
      const warnings = run.commands.filter((c) => c.command === 'warning').map((c) => c.message);
      expect(warnings).toContainEqual(expect.stringMatching(/Cannot reach the MCP server.*retrying until/));
    } finally {
      await proxy.close();
      await own.stop();
    }
  });
});
