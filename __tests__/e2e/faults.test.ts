/**
 * The fault suite: the built entries as runner processes, against real task servers of both generations, through a
 * fault-injecting HTTP proxy (`helpers/fault-proxy.ts`). What must hold, whatever the network does:
 * - only the server ends a job: refused connections, resets, HTTP 502/503/429 bursts, garbled replies, hung requests
 *   and dropped streams during a wait are retried, and the wait then finishes as if nothing had happened;
 * - every deadline is a deadline: a server that accepts and never answers is SERVER_UNREACHABLE at the step's
 *   timeout, never an internal error;
 * - no orphan after a kill: a submit killed (or whose reply was lost) after the server created the task leaves a
 *   record that a later wait or cancel resolves to that task;
 * - cancel always tries, even when the server does not advertise it;
 * - a question the server asks on its own stream is answered from input-responses, never declined silently.
 * Tests assert what happened (the server's own view of its tasks, the record, the outputs), never how fast.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import fs from 'node:fs';
import { readRecord } from '../helpers/jobs.js';
import { startFaultProxy, type FaultMode, type FaultProxy, type ProxiedRequest } from '../helpers/fault-proxy.js';
import { describeRun, makeRunnerTemp, runEntry, type RunEntryResult } from '../helpers/runner.js';
import {
  fixtureTasks,
  startFixtureServer,
  startSdkExampleServer,
  startV2FixtureServer,
  v2FixtureTasks,
  type RunningServer,
} from '../helpers/servers.js';

const POLL_MS = 100;
const temps: string[] = [];
const proxies: FaultProxy[] = [];

function runnerTemp(): string {
  const dir = makeRunnerTemp();
  temps.push(dir);
  return dir;
}

async function proxyFor(server: RunningServer): Promise<FaultProxy> {
  const proxy = await startFaultProxy(server.port);
  proxies.push(proxy);
  return proxy;
}

afterAll(async () => {
  await Promise.all(proxies.map((p) => p.close().catch(() => undefined)));
  for (const dir of temps) fs.rmSync(dir, { recursive: true, force: true });
});

function annotations(run: RunEntryResult, command: string): string {
  return run.commands
    .filter((c) => c.command === command)
    .map((c) => `${c.properties.title ?? ''}: ${c.message}`)
    .join('\n');
}

function expectSuccess(run: RunEntryResult): void {
  expect({ code: run.code, run: run.code === 0 ? '' : describeRun(run) }).toEqual({ code: 0, run: '' });
}

function expectFailure(run: RunEntryResult, pattern: RegExp): void {
  expect({ code: run.code, errors: annotations(run, 'error') }).toEqual({
    code: 1,
    errors: expect.stringMatching(pattern),
  });
  expect(annotations(run, 'error')).not.toMatch(/internal error|INTERNAL|please report/);
}

const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

interface Generation {
  name: string;
  start(env?: Record<string, string>): Promise<RunningServer>;
  serverTasks(server: RunningServer): Promise<Array<{ taskId: string; status: string }>>;
}

const GENERATIONS: Generation[] = [
  {
    name: '2025-11-25',
    start: (env) => startFixtureServer({ pollIntervalMs: POLL_MS, ...(env ? { env } : {}) }),
    serverTasks: fixtureTasks,
  },
  {
    name: '2026-07-28',
    start: (env) => startV2FixtureServer({ pollIntervalMs: POLL_MS, ...(env ? { env } : {}) }),
    serverTasks: v2FixtureTasks,
  },
];

async function submitThrough(
  proxy: FaultProxy,
  temp: string,
  tool: string,
  args: object,
  extra: Record<string, string> = {},
): Promise<{ jobId: string; taskId: string }> {
  const run = await runEntry('submit', {
    runnerTemp: temp,
    inputs: { server: proxy.url, tool, arguments: JSON.stringify(args), ...extra },
  });
  if (run.code !== 0) throw new Error(`submit failed\n${describeRun(run)}`);
  return { jobId: run.outputs['job-id']!, taskId: run.outputs['task-id']! };
}

const isPoll = (r: ProxiedRequest): boolean => r.rpcMethod === 'tasks/get';

/** The first line matching `pattern` that the server writes after `mark` (an offset into its stdout). */
async function nextLine(server: RunningServer, mark: number, pattern: RegExp): Promise<RegExpExecArray> {
  for (let waited = 0; waited < 30_000; waited += 25) {
    const match = pattern.exec(server.stdout().slice(mark));
    if (match !== null) return match;
    await pause(25);
  }
  throw new Error(`the server wrote no line matching ${pattern} within 30 s`);
}

describe.each(GENERATIONS)('faults during a wait ($name)', (gen) => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await gen.start();
  });
  afterAll(async () => {
    await server?.stop();
  });

  /**
   * Submits a task that runs for a while and waits for it through `fault`: the wait's first `faulted` polls meet it
   * (set before the wait starts, so however slowly the machine runs, the fault always hits the wait). `refuse`
   * cannot count requests: it starts once the wait is polling and lasts a moment, so that task runs longer.
   */
  async function waitThrough(
    fault: FaultMode,
    faulted = 3,
  ): Promise<{ run: RunEntryResult; jobId: string; taskId: string; proxy: FaultProxy; temp: string }> {
    const proxy = await proxyFor(server);
    const temp = runnerTemp();
    const durationMs = fault.kind === 'refuse' ? 12_000 : 2_000;
    const { jobId, taskId } = await submitThrough(proxy, temp, 'slow', { durationMs, statusMessages: 3 });
    if (fault.kind !== 'refuse') await proxy.setMode(fault, { match: isPoll, requests: faulted });
    const mark = proxy.log().length;
    const waiting = runEntry('wait', { runnerTemp: temp, inputs: { 'job-id': jobId } });
    if (fault.kind === 'refuse') {
      await proxy.waitFor((r) => r.seq > mark && isPoll(r) && r.status === 200, 20_000);
      await proxy.setMode(fault);
      await pause(1_500);
      await proxy.setMode({ kind: 'pass' });
    }
    const run = await waiting;
    if (fault.kind !== 'refuse') {
      expect(proxy.log().filter((r) => r.seq > mark && r.mode === fault.kind)).toHaveLength(faulted);
    }
    return { run, jobId, taskId, proxy, temp };
  }

  async function expectFinishedNormally(result: {
    run: RunEntryResult;
    jobId: string;
    taskId: string;
    temp: string;
  }): Promise<void> {
    const { run, jobId, taskId, temp } = result;
    expectSuccess(run);
    expect(run.outputs.status).toBe('completed');
    expect(run.outputs.text).toBe('done');
    expect(readRecord(temp, jobId)).toMatchObject({ status: 'completed', remoteStatus: 'completed' });
    expect((await gen.serverTasks(server)).find((t) => t.taskId === taskId)?.status).toBe('completed');
    // The outage was noticed once, and its end too; it never became the job's outcome.
    expect(annotations(run, 'warning')).toMatch(/retrying until .*the job is not affected/);
    expect(run.stdout).not.toMatch(/^job_\S+: failed/m);
  }

  it.each<[string, FaultMode]>([
    ['HTTP 502 burst', { kind: 'status', status: 502 }],
    ['HTTP 503 burst', { kind: 'status', status: 503, retryAfter: '1' }],
    ['HTTP 429 burst', { kind: 'status', status: 429, retryAfter: '1' }],
    ['connection resets', { kind: 'reset' }],
    ['garbled replies', { kind: 'garbage' }],
  ])('%s: retried, then the wait finishes normally', async (_name, fault) => {
    const result = await waitThrough(fault);
    await expectFinishedNormally(result);
    expect(result.run.stdout).toMatch(/answers again after/);
  });

  it('refused connections for a while: retried, then the wait finishes normally', async () => {
    const result = await waitThrough({ kind: 'refuse' });
    await expectFinishedNormally(result);
  });

  it('streams cut while idle: the wait still finishes normally', async () => {
    const proxy = await proxyFor(server);
    const temp = runnerTemp();
    await proxy.setMode({ kind: 'idle-cut', afterMs: 300 });
    const { jobId, taskId } = await submitThrough(proxy, temp, 'slow', { durationMs: 2_500 });
    const run = await runEntry('wait', { runnerTemp: temp, inputs: { 'job-id': jobId } });
    expectSuccess(run);
    expect(readRecord(temp, jobId)).toMatchObject({ status: 'completed' });
    expect((await gen.serverTasks(server)).find((t) => t.taskId === taskId)?.status).toBe('completed');
  });

  it('a poll that hangs until the deadline: the task is cancelled at the deadline, never an internal error', async () => {
    const proxy = await proxyFor(server);
    const temp = runnerTemp();
    const { jobId, taskId } = await submitThrough(proxy, temp, 'until-cancelled', {});
    const mark = proxy.log().length;
    // The wait's first poll hangs; whatever comes after (the cancel at the deadline) goes through.
    await proxy.setMode({ kind: 'hang' }, { match: (r) => r.seq > mark && isPoll(r), requests: 1 });
    const run = await runEntry('wait', { runnerTemp: temp, inputs: { 'job-id': jobId, 'timeout-minutes': '4s' } });
    expectFailure(run, /timed out/);
    expect(run.outputs.status).toBe('canceled');
    expect(readRecord(temp, jobId)).toMatchObject({ status: 'canceled', cancelReason: 'timeout' });
    expect((await gen.serverTasks(server)).find((t) => t.taskId === taskId)?.status).toBe('cancelled');
  });

  it('a reply lost after the server created the task: wait and cancel still find it', async () => {
    const proxy = await proxyFor(server);
    const temp = runnerTemp();
    const before = new Set((await gen.serverTasks(server)).map((t) => t.taskId));
    // The server acts on tools/call; the client never hears of it.
    await proxy.setMode({ kind: 'reset', forward: true }, { match: (r) => r.rpcMethod === 'tools/call', requests: 1 });
    const submit = await runEntry('submit', {
      runnerTemp: temp,
      inputs: { server: proxy.url, tool: 'until-cancelled', arguments: '{}' },
    });
    const created = (await gen.serverTasks(server)).filter((t) => !before.has(t.taskId));
    expect(created).toHaveLength(1);
    const jobId = submit.outputs['job-id']!;
    if (gen.name === '2025-11-25') {
      // tasks/list in the session the call went over names the task: submit adopts it.
      expectSuccess(submit);
      expect(submit.outputs['task-id']).toBe(created[0]!.taskId);
    } else {
      // 2026-07-28 cannot list tasks: submit says so and the record stays queued, never failed.
      expectFailure(submit, /cannot list tasks.*stays queued/);
      expect(readRecord(temp, jobId)).toMatchObject({ status: 'queued', callSession: { generation: '2026-07-28' } });
    }
    const cancel = await runEntry('cancel', { runnerTemp: temp, inputs: { 'job-id': jobId } });
    if (gen.name === '2025-11-25') {
      expectSuccess(cancel);
      expect(cancel.outputs.status).toBe('canceled');
      expect((await gen.serverTasks(server)).find((t) => t.taskId === created[0]!.taskId)?.status).toBe('cancelled');
    } else {
      expectFailure(cancel, /TASK_LOST.*offers no way to list tasks/);
      expect(cancel.outputs['job-id']).toBe(jobId);
    }
  });
});

describe('every deadline is a deadline', () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startFixtureServer({ pollIntervalMs: POLL_MS });
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('a server that accepts and never answers: the root action ends at its timeout with SERVER_UNREACHABLE', async () => {
    const proxy = await proxyFor(server);
    await proxy.setMode({ kind: 'hang' });
    const temp = runnerTemp();
    const run = await runEntry('call', {
      runnerTemp: temp,
      inputs: { server: proxy.url, tool: 'slow', arguments: '{"durationMs":100}', 'timeout-minutes': '3s' },
    });
    expect(run.timedOut).toBe(false);
    expectFailure(
      run,
      /SERVER_UNREACHABLE.*did not answer within \d+(\.\d)?(m?s), all that was left before the deadline \(connecting\)/,
    );
    await proxy.setMode({ kind: 'pass' });
  });
});

describe('no orphan after a kill (2025-11-25)', () => {
  let server: RunningServer;
  beforeAll(async () => {
    // The server holds each task-creating reply for a while after creating the task: time to kill the submit.
    server = await startFixtureServer({ pollIntervalMs: POLL_MS, env: { FIXTURE_CREATE_DELAY_MS: '5000' } });
  });
  afterAll(async () => {
    await server?.stop();
  });

  async function killedSubmit(tool: string, args: object): Promise<{ temp: string; jobId: string; taskId: string }> {
    const temp = runnerTemp();
    const mark = server.stdout().length;
    const created = nextLine(server, mark, /^CREATED (\S+) /m);
    const run = await runEntry('submit', {
      runnerTemp: temp,
      inputs: { server: server.url, tool, arguments: JSON.stringify(args) },
      signalAfter: { signal: 'SIGKILL', when: created },
    });
    expect(run.signal).toBe('SIGKILL');
    const taskId = (await created)[1]!;
    const jobId = fs.readdirSync(`${temp}/mcp-jobs/instances/default/jobs`)[0]!.replace(/\.json$/, '');
    // The submit died before the reply: the record names the session the call went over, and no task.
    const record = readRecord(temp, jobId);
    expect(record).toMatchObject({ status: 'queued', callSession: { generation: '2025-11-25' } });
    expect(record.remote).toBeUndefined();
    return { temp, jobId, taskId };
  }

  it('a later wait adopts the task the killed submit created and follows it to its end', async () => {
    const { temp, jobId, taskId } = await killedSubmit('slow', { durationMs: 1_000 });
    const run = await runEntry('wait', { runnerTemp: temp, inputs: { 'job-id': jobId } });
    expectSuccess(run);
    expect(run.outputs['task-id']).toBe(taskId);
    expect(readRecord(temp, jobId)).toMatchObject({ status: 'completed', remote: { taskId } });
  });

  it('a later cancel finds the task and cancels it on the server', async () => {
    const { temp, jobId, taskId } = await killedSubmit('until-cancelled', {});
    const run = await runEntry('cancel', { runnerTemp: temp, inputs: { 'job-id': jobId } });
    expectSuccess(run);
    expect(run.outputs).toMatchObject({ status: 'canceled', 'task-id': taskId });
    expect((await fixtureTasks(server)).find((t) => t.taskId === taskId)?.status).toBe('cancelled');
  });
});

describe('a wait killed mid-way', () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startFixtureServer({ pollIntervalMs: POLL_MS });
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('leaves the job running, and a later wait follows it to its end', async () => {
    const temp = runnerTemp();
    const submit = await runEntry('submit', {
      runnerTemp: temp,
      inputs: { server: server.url, tool: 'slow', arguments: '{"durationMs":4000,"statusMessages":8}' },
    });
    const jobId = submit.outputs['job-id']!;
    const killed = await runEntry('wait', {
      runnerTemp: temp,
      inputs: { 'job-id': jobId },
      signalAfter: { signal: 'SIGKILL', whenStdoutMatches: /: running: slow: step/ },
    });
    expect(killed.signal).toBe('SIGKILL');
    expect(readRecord(temp, jobId).status).toBe('running');
    const again = await runEntry('wait', { runnerTemp: temp, inputs: { 'job-id': jobId } });
    expectSuccess(again);
    expect(readRecord(temp, jobId).status).toBe('completed');
  });
});

describe('cancel always tries', () => {
  let server: RunningServer;
  beforeAll(async () => {
    // Like the SDK's own example servers: tasks.cancel is not declared, tasks/cancel is honoured.
    server = await startFixtureServer({ pollIntervalMs: POLL_MS, env: { FIXTURE_NO_CANCEL_CAPABILITY: '1' } });
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('sends tasks/cancel to a server that does not advertise it, and records what it then holds', async () => {
    const temp = runnerTemp();
    const submit = await runEntry('submit', {
      runnerTemp: temp,
      inputs: { server: server.url, tool: 'until-cancelled', arguments: '{}' },
    });
    const taskId = submit.outputs['task-id']!;
    const run = await runEntry('cancel', { runnerTemp: temp, inputs: { 'job-id': submit.outputs['job-id']! } });
    expectSuccess(run);
    expect(run.outputs.status).toBe('canceled');
    expect((await fixtureTasks(server)).find((t) => t.taskId === taskId)?.status).toBe('cancelled');
  });

  it('a timeout of the root action cancels the task there too', async () => {
    const temp = runnerTemp();
    const run = await runEntry('call', {
      runnerTemp: temp,
      // Long enough for the submit to have created the task even on a loaded machine: the deadline then hits the wait.
      inputs: { server: server.url, tool: 'until-cancelled', arguments: '{}', 'timeout-minutes': '10s' },
    });
    expectFailure(run, /timed out/);
    const taskId = run.outputs['task-id']!;
    expect(run.outputs.status).toBe('canceled');
    expect((await fixtureTasks(server)).find((t) => t.taskId === taskId)?.status).toBe('cancelled');
  });
});

describe('questions a server asks on its own stream (2025-11-25)', () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startFixtureServer({ pollIntervalMs: POLL_MS });
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('are answered from input-responses by the root action', async () => {
    const run = await runEntry('call', {
      runnerTemp: runnerTemp(),
      inputs: {
        server: server.url,
        tool: 'ask-outside',
        arguments: '{}',
        'input-responses': '{"*": {"action": "accept", "content": {"answer": "forty-two"}}}',
        'timeout-minutes': '30s',
      },
    });
    expectSuccess(run);
    expect(run.outputs.text).toContain('forty-two');
    const taskId = run.outputs['task-id']!;
    expect(server.stdout()).toContain(`ANSWERED ${taskId} accept`);
  });

  it('are answered by a later wait that rejoins the session', async () => {
    const temp = runnerTemp();
    const submit = await runEntry('submit', {
      runnerTemp: temp,
      inputs: { server: server.url, tool: 'ask-outside', arguments: '{}' },
    });
    const taskId = submit.outputs['task-id']!;
    const run = await runEntry('wait', {
      runnerTemp: temp,
      inputs: {
        'job-id': submit.outputs['job-id']!,
        'input-responses': '{"*": {"action": "accept", "content": {"answer": "later"}}}',
        'timeout-minutes': '30s',
      },
    });
    expectSuccess(run);
    expect(run.outputs.text).toContain('later');
    expect(server.stdout()).toContain(`ANSWERED ${taskId} accept`);
  });

  it('without answers: reported as input_required with the question, never declined', async () => {
    const temp = runnerTemp();
    const run = await runEntry('call', {
      runnerTemp: temp,
      inputs: {
        server: server.url,
        tool: 'ask-outside',
        arguments: '{"message": "Which region?"}',
        'timeout-minutes': '30s',
        'cancel-on-timeout': 'false',
      },
    });
    expectFailure(run, /INPUT_REQUIRED.*Which region\?/);
    const taskId = run.outputs['task-id']!;
    expect(server.stdout()).toContain(`ELICITED ${taskId}`);
    expect(server.stdout()).not.toMatch(new RegExp(`ANSWERED ${taskId} (cancel|decline)`));
    expect(readRecord(temp, run.outputs['job-id']!)).toMatchObject({
      status: 'input_required',
      pendingInput: { message: expect.stringContaining('Which region?') },
    });
  });
});

describe('a 2026-07-28 server restarted mid-wait that keeps its tasks', () => {
  it('is retried while it is down, and the wait finishes normally once it is back', async () => {
    const stateFile = `${runnerTemp()}/v2-tasks.json`;
    const server = await startV2FixtureServer({ pollIntervalMs: POLL_MS, stateFile });
    try {
      const temp = runnerTemp();
      const submit = await runEntry('submit', {
        runnerTemp: temp,
        inputs: { server: server.url, tool: 'slow', arguments: '{"durationMs":3000}' },
      });
      expectSuccess(submit);
      const waiting = runEntry('wait', { runnerTemp: temp, inputs: { 'job-id': submit.outputs['job-id']! } });
      // Once the wait is following the task, the server goes away and comes back with the tasks it persisted.
      await pause(800);
      await server.restart();
      const run = await waiting;
      expectSuccess(run);
      expect(run.outputs.status).toBe('completed');
      expect(server.stdout()).toMatch(new RegExp(`RESUMED ${submit.outputs['task-id']!}`));
      expect(readRecord(temp, submit.outputs['job-id']!)).toMatchObject({ status: 'completed' });
    } finally {
      await server.stop();
    }
  });
});

describe('the SDK example server (simpleStreamableHttp): no tasks.cancel declared', () => {
  it('a cancel reaches it, and the job records what it then holds', async () => {
    const server = await startSdkExampleServer('simpleStreamableHttp');
    try {
      const temp = runnerTemp();
      const submit = await runEntry('submit', {
        runnerTemp: temp,
        inputs: { server: server.url, tool: 'delay', arguments: '{"duration": 60000}' },
      });
      expectSuccess(submit);
      const run = await runEntry('cancel', { runnerTemp: temp, inputs: { 'job-id': submit.outputs['job-id']! } });
      expectSuccess(run);
      expect(run.outputs.status).toBe('canceled');
      expect(readRecord(temp, submit.outputs['job-id']!)).toMatchObject({
        status: 'canceled',
        remoteStatus: 'cancelled',
        cancelReason: 'user',
      });
    } finally {
      // This example server crashes when a cancelled delay ends (an SDK bug): it is stopped before that.
      await server.stop();
    }
  });
});

describe('wrong tool arguments', () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startFixtureServer({ pollIntervalMs: POLL_MS });
  });
  afterAll(async () => {
    await server?.stop();
  });

  it("show the server's own message, and no task is left", async () => {
    const before = (await fixtureTasks(server)).length;
    const run = await runEntry('submit', {
      runnerTemp: runnerTemp(),
      inputs: { server: server.url, tool: 'slow', arguments: '{"durationMs": "soon"}' },
    });
    expectFailure(run, /SERVER_ERROR.*-32602.*Invalid arguments for tool slow.*durationMs/s);
    expect(run.outputs.status).toBe('failed');
    expect(await fixtureTasks(server)).toHaveLength(before);
  });
});
