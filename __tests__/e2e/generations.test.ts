/**
 * The core end-to-end scenarios against both task generations, with the same workflow inputs: a 2025-11-25 server
 * (the v1 fixture: experimental tasks in an MCP session) and a 2026-07-28 server (the v2 fixture: the
 * `io.modelcontextprotocol/tasks` extension). The built entries run as separate processes sharing only RUNNER_TEMP,
 * and every scenario checks what the server itself holds afterwards (the fixtures' `GET /_fixture/tasks`). Then what
 * differs between the generations (isError arriving as `completed`, acknowledged-only cancel, no client TTL),
 * `input_required` on both (v2 fixture `needs-input`; server-everything's ambiguous research query), a protocol
 * pinned to the wrong generation, and a server that switches generation between submit and wait.
 *
 * Speed: scenarios that only wait on the server run with `it.concurrent` (Jest runs a describe block's concurrent
 * tests together, after its beforeAll); the ones that measure time (signals, the cancel settle window) run alone.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import fs from 'node:fs';
import { readRecord, recordPath } from '../helpers/jobs.js';
import { describeRun, makeRunnerTemp, runEntry, type RunEntryResult } from '../helpers/runner.js';
import {
  fixtureTasks,
  freePort,
  startEverythingServer,
  startFixtureServer,
  startV2FixtureServer,
  v2FixtureTasks,
  type RunningServer,
} from '../helpers/servers.js';

type Generation = '2025-11-25' | '2026-07-28';

interface GenerationCase {
  name: string;
  generation: Generation;
  /** The other generation: for pinning the wrong one, and for the server that switches. */
  other: Generation;
  /** Starts this generation's fixture (on `port` when given). */
  start(port?: number): Promise<RunningServer>;
  tools: { slow: string; fail: string; untilCancelled: string };
  /** The tasks the server itself holds (its out-of-band `GET /_fixture/tasks`). */
  serverTasks(server: RunningServer): Promise<Array<{ taskId: string; status: string }>>;
}

const POLL_MS = 200;

const V1: GenerationCase = {
  name: 'v1 fixture (2025-11-25)',
  generation: '2025-11-25',
  other: '2026-07-28',
  start: (port) => startFixtureServer({ pollIntervalMs: POLL_MS, ...(port === undefined ? {} : { port }) }),
  tools: { slow: 'slow', fail: 'fail', untilCancelled: 'until-cancelled' },
  serverTasks: fixtureTasks,
};

const V2: GenerationCase = {
  name: 'v2 fixture (2026-07-28)',
  generation: '2026-07-28',
  other: '2025-11-25',
  start: (port) => startV2FixtureServer({ pollIntervalMs: POLL_MS, ...(port === undefined ? {} : { port }) }),
  tools: { slow: 'slow', fail: 'fail', untilCancelled: 'until-cancelled' },
  serverTasks: v2FixtureTasks,
};

const GENERATIONS: Record<Generation, GenerationCase> = { '2025-11-25': V1, '2026-07-28': V2 };

/** The status of a task as the server itself holds it. */
async function remoteStatus(gen: GenerationCase, server: RunningServer, taskId: string): Promise<string | undefined> {
  return (await gen.serverTasks(server)).find((task) => task.taskId === taskId)?.status;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** The step's error annotations (`title: message`), joined. */
function errors(run: RunEntryResult): string {
  return run.commands
    .filter((c) => c.command === 'error')
    .map((c) => `${c.properties.title ?? ''}: ${c.message}`)
    .join('\n');
}

function warnings(run: RunEntryResult): string {
  return run.commands
    .filter((c) => c.command === 'warning')
    .map((c) => c.message)
    .join('\n');
}

/** Exit 0, or the whole run in the failure message. */
function expectSuccess(run: RunEntryResult): void {
  expect({ code: run.code, run: run.code === 0 ? '' : describeRun(run) }).toEqual({ code: 0, run: '' });
}

/** Exit 1 with an error annotation matching `pattern`, never reported as a bug in mcp-jobs. */
function expectFailure(run: RunEntryResult, pattern: RegExp): void {
  expect({ code: run.code, errors: errors(run) }).toEqual({ code: 1, errors: expect.stringMatching(pattern) });
  expect(errors(run)).not.toMatch(/internal error|INTERNAL/);
}

async function submit(
  server: RunningServer,
  runnerTemp: string,
  tool: string,
  args: object = {},
  extra: Record<string, string> = {},
): Promise<{ jobId: string; taskId: string; run: RunEntryResult }> {
  const run = await runEntry('submit', {
    runnerTemp,
    inputs: { server: server.url, tool, arguments: JSON.stringify(args), ...extra },
  });
  if (run.code !== 0) throw new Error(`submit failed\n${describeRun(run)}`);
  return { jobId: run.outputs['job-id']!, taskId: run.outputs['task-id']!, run };
}

describe.each([V1, V2])('$name', (gen) => {
  let server: RunningServer;

  beforeAll(async () => {
    server = await gen.start();
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('SIGINT to wait cancels the remote task before wait exits', async () => {
    const runnerTemp = makeRunnerTemp();
    const { jobId, taskId } = await submit(server, runnerTemp, gen.tools.untilCancelled);
    const run = await runEntry('wait', {
      runnerTemp,
      inputs: { 'job-id': jobId },
      signalAfter: { signal: 'SIGINT', whenStdoutMatches: /::group::Waiting for/, afterMs: 300 },
    });
    expect(run.signalSentAtMs).not.toBeNull();
    expect(run.code).toBe(1);
    // wait exits only once the server acknowledged the cancel and the record was written (speed: npm run bench).
    expect(await remoteStatus(gen, server, taskId)).toBe('cancelled');
    expect(readRecord(runnerTemp, jobId)).toMatchObject({ status: 'canceled', cancelReason: 'signal' });
  });

  it('the post step after a SIGKILLed wait cancels the remote task', async () => {
    const runnerTemp = makeRunnerTemp();
    const { jobId, taskId } = await submit(server, runnerTemp, gen.tools.untilCancelled);
    const main = await runEntry('wait', {
      runnerTemp,
      inputs: { 'job-id': jobId },
      signalAfter: { signal: 'SIGKILL', whenStdoutMatches: /::group::Waiting for/, afterMs: 200 },
    });
    expect(main.signal).toBe('SIGKILL');
    expect(await remoteStatus(gen, server, taskId)).toBe('working');
    const post = await runEntry('post', { runnerTemp, inputs: {}, state: main.state });
    expectSuccess(post);
    expect(post.stdout).toContain(`cancelling task ${taskId}`);
    expect(await remoteStatus(gen, server, taskId)).toBe('cancelled');
    expect(readRecord(runnerTemp, jobId)).toMatchObject({ status: 'canceled', cancelReason: 'signal' });
  });

  // --- waiting on the server: together ------------------------------------------------------------------------

  it.concurrent(
    'submit, then wait in another process: completed, text and structured-content; generation recorded',
    async () => {
      const runnerTemp = makeRunnerTemp();
      const {
        jobId,
        taskId,
        run: submitted,
      } = await submit(server, runnerTemp, gen.tools.slow, {
        durationMs: 1500,
        text: `report from ${gen.generation}`,
      });
      expect(submitted.outputs.status).toBe('running');
      expect(submitted.stdout).toContain(`protocol ${gen.generation}`);
      // protocol: auto (the default) found the generation the server speaks and recorded what later steps need.
      const record = readRecord(runnerTemp, jobId);
      expect(record.remote).toMatchObject({ generation: gen.generation, taskId, protocolVersion: gen.generation });
      if (gen.generation === '2026-07-28') {
        expect(record.remote.discover).toEqual(expect.objectContaining({ supportedVersions: ['2026-07-28'] }));
        expect(record.remote).not.toHaveProperty('sessionId');
      } else {
        expect(record.remote.sessionId).toMatch(/\S+/);
        expect(record.remote).not.toHaveProperty('discover');
      }

      const wait = await runEntry('wait', { runnerTemp, inputs: { 'job-id': jobId } });
      expectSuccess(wait);
      expect(wait.outputs).toMatchObject({
        status: 'completed',
        'job-id': jobId,
        'task-id': taskId,
        'is-error': 'false',
      });
      expect(wait.outputs.text).toBe(`report from ${gen.generation}`);
      const structured = JSON.parse(wait.outputs['structured-content'] ?? '');
      expect(structured).toEqual({ durationMs: 1500, completedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) });
      expect(JSON.parse(wait.outputs.result ?? '').structuredContent).toEqual(structured);
      expect(wait.summary).toMatch(new RegExp(`\\| \`${jobId}\` \\| slow \\| completed \\|`));
      expect(await remoteStatus(gen, server, taskId)).toBe('completed');
      expect(readRecord(runnerTemp, jobId)).toMatchObject({
        status: 'completed',
        remoteStatus: 'completed',
        remote: { generation: gen.generation },
      });
    },
  );

  it.concurrent('cancel: the server holds the task cancelled, and the record says so', async () => {
    const runnerTemp = makeRunnerTemp();
    const { jobId, taskId } = await submit(server, runnerTemp, gen.tools.untilCancelled);
    const run = await runEntry('cancel', { runnerTemp, inputs: { 'job-id': jobId, reason: 'superseded' } });
    expectSuccess(run);
    expect(run.outputs).toMatchObject({ status: 'canceled', 'task-id': taskId });
    expect(await remoteStatus(gen, server, taskId)).toBe('cancelled');
    expect(readRecord(runnerTemp, jobId)).toMatchObject({
      status: 'canceled',
      remoteStatus: 'cancelled',
      cancelReason: 'user',
    });
  });

  it.concurrent(
    'wait timeout-minutes 2s: cancels the remote task, records reason timeout, fails the step',
    async () => {
      const runnerTemp = makeRunnerTemp();
      const { jobId, taskId } = await submit(server, runnerTemp, gen.tools.untilCancelled);
      const run = await runEntry('wait', { runnerTemp, inputs: { 'job-id': jobId, 'timeout-minutes': '2s' } });
      expect(run.code).toBe(1);
      expect(run.outputs.status).toBe('canceled');
      expect(errors(run)).toMatch(/timed out \(.* after submit\); task .* was canceled on the server/);
      expect(run.durationMs).toBeGreaterThanOrEqual(2000);
      expect(await remoteStatus(gen, server, taskId)).toBe('cancelled');
      expect(readRecord(runnerTemp, jobId)).toMatchObject({ status: 'canceled', cancelReason: 'timeout' });
    },
  );

  it.concurrent('a failing task (protocol pinned to its generation): failed, the error text, exit 1', async () => {
    const runnerTemp = makeRunnerTemp();
    const { jobId, taskId } = await submit(
      server,
      runnerTemp,
      gen.tools.fail,
      { message: 'disk quota exceeded', delayMs: 200 },
      { protocol: gen.generation },
    );
    expect(readRecord(runnerTemp, jobId).remote.generation).toBe(gen.generation);
    const run = await runEntry('wait', { runnerTemp, inputs: { 'job-id': jobId } });
    expect(run.code).toBe(1);
    expect(run.outputs).toMatchObject({ status: 'failed', 'is-error': 'true' });
    expect(errors(run)).toMatch(new RegExp(`job failed: Job ${jobId} failed: `));
    expect(await remoteStatus(gen, server, taskId)).toBe('failed');
    const record = readRecord(runnerTemp, jobId);
    expect(record).toMatchObject({ status: 'failed', remoteStatus: 'failed', error: { code: 'TASK_FAILED' } });
    if (gen.generation === '2026-07-28') {
      // A JSON-RPC error: no tool result; its message is the step's error, its code is kept.
      expect(errors(run)).toContain('disk quota exceeded');
      expect(record.error.data).toMatchObject({ rpcCode: -32603 });
    } else {
      // The tool's isError result, whose text reaches the outputs.
      expect(run.outputs.text).toBe('disk quota exceeded');
    }
  });

  it.concurrent('an unknown task: "the server no longer has task X"', async () => {
    const runnerTemp = makeRunnerTemp();
    const { jobId } = await submit(server, runnerTemp, gen.tools.slow, { durationMs: 100 });
    const file = recordPath(runnerTemp, jobId);
    const record = JSON.parse(fs.readFileSync(file, 'utf8'));
    record.remote.taskId = 'task-that-never-was';
    fs.writeFileSync(file, JSON.stringify(record));
    const run = await runEntry('wait', { runnerTemp, inputs: { 'job-id': jobId } });
    expectFailure(run, /server no longer has task task-that-never-was \(it is unknown or expired\)/);
    expect(run.outputs.status).toBe('running');
    expect(readRecord(runnerTemp, jobId)).toMatchObject({ status: 'running', error: { code: 'TASK_LOST' } });
  });

  it.concurrent(`protocol pinned to the other generation: a clear error naming the input 'protocol'`, async () => {
    const tasksBefore = (await gen.serverTasks(server)).length;
    const run = await runEntry('submit', {
      inputs: { server: server.url, tool: gen.tools.slow, arguments: '{"durationMs":100}', protocol: gen.other },
    });
    expectFailure(
      run,
      new RegExp(`Input 'protocol' is ${gen.other}, but the MCP server ${escapeRegExp(server.url)} does not speak it`),
    );
    expect(readRecord(run.runnerTemp, run.outputs['job-id']!)).toMatchObject({ status: 'failed' });
    // Nothing reached the server's tools.
    expect((await gen.serverTasks(server)).length).toBe(tasksBefore);
  });

  it.concurrent(`a server that switches to ${gen.other} between submit and wait: a clear error`, async () => {
    const port = await freePort();
    const before = await gen.start(port);
    const runnerTemp = makeRunnerTemp();
    let after: RunningServer | undefined;
    try {
      const { jobId, taskId } = await submit(before, runnerTemp, gen.tools.untilCancelled);
      await before.stop();
      after = await GENERATIONS[gen.other].start(port);
      expect(after.url).toBe(before.url);
      const run = await runEntry('wait', { runnerTemp, inputs: { 'job-id': jobId, 'timeout-minutes': '10s' } });
      expectFailure(run, new RegExp(`${escapeRegExp(before.url)} no longer speaks (protocol )?${gen.generation}`));
      expect(errors(run)).toContain(jobId);
      // Not mistaken for a lost task or an unreachable server.
      expect(errors(run)).not.toMatch(new RegExp(`no longer has task ${taskId}|SERVER_UNREACHABLE`));
      expect(readRecord(runnerTemp, jobId).remote.generation).toBe(gen.generation);
    } finally {
      await before.stop();
      await after?.stop();
    }
  });
});

describe('what differs on 2026-07-28 (v2 fixture)', () => {
  let server: RunningServer;

  beforeAll(async () => {
    server = await V2.start();
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('cancel of a task that ignores cancellation reports the status the server really holds', async () => {
    const runnerTemp = makeRunnerTemp();
    // Long enough to outlast the cancel however slowly the machine runs it: the outcome does not hang on timing.
    const { jobId, taskId } = await submit(server, runnerTemp, 'ignores-cancel', { durationMs: 60_000 });
    const run = await runEntry('cancel', { runnerTemp, inputs: { 'job-id': jobId } });
    expectSuccess(run);
    const held = (await v2FixtureTasks(server)).find((t) => t.taskId === taskId);
    // The server acknowledged the cancel and goes on working: that is what the step reports, not "canceled".
    expect(held).toMatchObject({ status: 'working', cancelRequested: true });
    expect(run.outputs.status).toBe('running');
    expect(warnings(run)).toMatch(/accepted the cancel request but still reports working; it may still finish/);
    const record = readRecord(runnerTemp, jobId);
    expect(record).toMatchObject({ status: 'running', remoteStatus: 'working' });
    expect(record).not.toHaveProperty('cancelReason');
  });

  it.concurrent(
    'an isError result arrives as completed: is-error true and exit 1 (exit 0 with fail-on-error false)',
    async () => {
      const runnerTemp = makeRunnerTemp();
      const { jobId, taskId } = await submit(server, runnerTemp, 'is-error', { message: 'lint found 3 problems' });
      const run = await runEntry('wait', { runnerTemp, inputs: { 'job-id': jobId } });
      expect(run.code).toBe(1);
      expect(run.outputs).toMatchObject({ status: 'completed', 'is-error': 'true', text: 'lint found 3 problems' });
      expect(errors(run)).toContain(`Job ${jobId} completed, but tool is-error reported an error (isError)`);
      expect(await remoteStatus(V2, server, taskId)).toBe('completed');
      expect(readRecord(runnerTemp, jobId)).toMatchObject({ status: 'completed', result: { isError: true } });
      const lenient = await runEntry('wait', { runnerTemp, inputs: { 'job-id': jobId, 'fail-on-error': 'false' } });
      expectSuccess(lenient);
      expect(lenient.outputs).toMatchObject({ status: 'completed', 'is-error': 'true' });
    },
  );

  it.concurrent('task-ttl: a warning that it was not sent', async () => {
    const runnerTemp = makeRunnerTemp();
    const { jobId, taskId, run } = await submit(server, runnerTemp, 'slow', { durationMs: 100 }, { 'task-ttl': '90s' });
    expect(warnings(run)).toMatch(
      new RegExp(`task-ttl was not sent: protocol 2026-07-28 has no client TTL.*${taskId}`),
    );
    // The server kept its own TTL.
    expect((await v2FixtureTasks(server)).find((t) => t.taskId === taskId)?.ttlMs).toBe(3_600_000);
    expect(readRecord(runnerTemp, jobId).requestedTtlMs).toBe(90_000);
  });

  it.concurrent('input_required answered with input-responses (by input key): completed with the answer', async () => {
    const runnerTemp = makeRunnerTemp();
    const { jobId, taskId } = await submit(server, runnerTemp, 'needs-input');
    const run = await runEntry('wait', {
      runnerTemp,
      inputs: { 'job-id': jobId, 'input-responses': JSON.stringify({ confirm: { confirm: true } }) },
    });
    expectSuccess(run);
    expect(run.outputs.status).toBe('completed');
    expect(run.outputs.text).toBe('needs-input received: accept {"confirm":true}');
    expect(JSON.parse(run.outputs['structured-content'] ?? '')).toEqual({
      answer: { action: 'accept', content: { confirm: true } },
    });
    expect(await remoteStatus(V2, server, taskId)).toBe('completed');
    expect(readRecord(runnerTemp, jobId).events.map((e: { status: string }) => e.status)).toContain('input_required');
  });

  it.concurrent(
    'input_required unanswered: status input_required, exit 1; the task still waits for its answer',
    async () => {
      const runnerTemp = makeRunnerTemp();
      const { jobId, taskId } = await submit(server, runnerTemp, 'needs-input');
      const run = await runEntry('wait', { runnerTemp, inputs: { 'job-id': jobId } });
      expectFailure(
        run,
        /INPUT_REQUIRED.*(needs-input: confirm to continue|Waiting for input from the client).*input-responses/,
      );
      expect(run.outputs.status).toBe('input_required');
      expect(readRecord(runnerTemp, jobId)).toMatchObject({ status: 'input_required', remoteStatus: 'input_required' });
      // The error says to answer it with input-responses: so the server must still be asking, and a later wait can.
      expect(await remoteStatus(V2, server, taskId)).toBe('input_required');
      const answered = await runEntry('wait', {
        runnerTemp,
        inputs: { 'job-id': jobId, 'input-responses': JSON.stringify({ '*': { confirm: false } }) },
      });
      expectSuccess(answered);
      expect(answered.outputs.text).toBe('needs-input received: accept {"confirm":false}');
    },
  );
});

describe('input_required on 2025-11-25 (server-everything, ambiguous research query)', () => {
  let server: RunningServer;

  beforeAll(async () => {
    server = await startEverythingServer();
  });
  afterAll(async () => {
    await server?.stop();
  });

  it.concurrent('answered with input-responses: completed with the chosen interpretation', async () => {
    const runnerTemp = makeRunnerTemp();
    const { jobId } = await submit(server, runnerTemp, 'simulate-research-query', { topic: 'python', ambiguous: true });
    const run = await runEntry('wait', {
      runnerTemp,
      inputs: { 'job-id': jobId, 'input-responses': JSON.stringify({ '*': { interpretation: 'programming' } }) },
    });
    expectSuccess(run);
    expect(run.outputs.status).toBe('completed');
    expect(run.outputs.text).toContain('# Research Report: python (programming)');
    expect(readRecord(runnerTemp, jobId).events.map((e: { status: string }) => e.status)).toEqual(
      expect.arrayContaining(['input_required', 'completed']),
    );
  });

  it.concurrent('unanswered: status input_required with the server message, exit 1', async () => {
    const runnerTemp = makeRunnerTemp();
    const { jobId } = await submit(server, runnerTemp, 'simulate-research-query', {
      topic: 'python',
      ambiguous: true,
    });
    const run = await runEntry('wait', { runnerTemp, inputs: { 'job-id': jobId } });
    expectFailure(run, /INPUT_REQUIRED.*multiple interpretations.*input-responses/);
    expect(run.outputs.status).toBe('input_required');
    expect(readRecord(runnerTemp, jobId)).toMatchObject({ status: 'input_required', remoteStatus: 'input_required' });
    // Unlike 2026-07-28, a later wait cannot answer here: a 2025-11-25 server delivers its elicitation once, on the
    // tasks/result stream open at the time, which ended with the first wait (README: Limits).
  });
});
