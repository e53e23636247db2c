/**
 * Push: a wait learns of its task's end the moment the server pushes it, not at the next poll. The servers here ask
 * for a poll interval of 5 s and 30 s and answer the blocking `tasks/result` the way the stock SDK does (re-checking
 * the task only once per interval), and their tasks finish only once the wait's session stream is open. So a wait
 * that ends well inside the test's timeout, with the interval at 30 s, can only have heard the pushed
 * `notifications/tasks/status`. Also: progress and log messages on that stream, and a stream that drops mid-wait.
 * Built entries run as separate processes; one server process per poll interval, shared by the cases.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { readRecord } from '../helpers/jobs.js';
import { describeRun, makeRunnerTemp, runEntry, type RunEntryResult } from '../helpers/runner.js';
import { startFixtureServer, startV2FixtureServer, type RunningServer } from '../helpers/servers.js';

function expectSuccess(run: RunEntryResult): void {
  expect({ code: run.code, run: run.code === 0 ? '' : describeRun(run) }).toEqual({ code: 0, run: '' });
}

async function submit(server: RunningServer, runnerTemp: string, args: object): Promise<string> {
  const run = await runEntry('submit', {
    runnerTemp,
    inputs: { server: server.url, tool: 'slow', arguments: JSON.stringify(args) },
  });
  if (run.code !== 0) throw new Error(`submit failed\n${describeRun(run)}`);
  return run.outputs['job-id']!;
}

/** A wait that cannot end by polling: its deadline (and the test's) is shorter than the server's interval. */
function wait(runnerTemp: string, jobId: string): Promise<RunEntryResult> {
  return runEntry('wait', { runnerTemp, inputs: { 'job-id': jobId, timeout: '25s' }, timeoutMs: 28_000 });
}

describe.each([5_000, 30_000])(
  '2025-11-25 server with pollInterval %i ms and the stock blocking tasks/result',
  (interval) => {
    let server: RunningServer;
    beforeAll(async () => {
      server = await startFixtureServer({ pollIntervalMs: interval, stockResult: true });
    });
    afterAll(async () => {
      await server?.stop();
    });

    it('ends the wait on the pushed status, with the result', async () => {
      const runnerTemp = makeRunnerTemp();
      const jobId = await submit(server, runnerTemp, { durationMs: 300, awaitStream: true, text: 'pushed' });
      const run = await wait(runnerTemp, jobId);
      expectSuccess(run);
      expect(run.outputs).toMatchObject({ status: 'completed', text: 'pushed' });
      expect(readRecord(runnerTemp, jobId).status).toBe('completed');
    }, 40_000);

    if (interval !== 30_000) return;

    it('shows progress as throttled lines and in the record, and relays log messages at their level', async () => {
      const runnerTemp = makeRunnerTemp();
      const jobId = await submit(server, runnerTemp, { durationMs: 300, progress: 3 });
      const run = await wait(runnerTemp, jobId);
      expectSuccess(run);
      // The first report and the one that reaches its total are shown; the one between them comes too soon after.
      expect(run.stdout).toContain(`${jobId}: progress 10/30: slow: part 1 of 3`);
      expect(run.stdout).toContain(`${jobId}: progress 30/30: slow: part 3 of 3`);
      expect(run.stdout).not.toContain('progress 20/30');
      expect(readRecord(runnerTemp, jobId).progress).toMatchObject({
        progress: 30,
        total: 30,
        message: 'slow: part 3 of 3',
      });
      const debug = run.commands.filter((c) => c.command === 'debug').map((c) => c.message);
      expect(debug).toContain(`${jobId}: server debug (fixture): slow: debug message 1`);
      expect(run.stdout).toMatch(new RegExp(`^${jobId}: server info \\(fixture\\): slow: info message 2$`, 'm'));
      const warnings = run.commands.filter((c) => c.command === 'warning').map((c) => c.message);
      expect(warnings).toContain(`${jobId}: server warning (fixture): slow: warning message 3`);
    }, 40_000);

    it('opens the session stream again when it drops, and still hears the end at once', async () => {
      const runnerTemp = makeRunnerTemp();
      // The task closes the stream halfway and finishes only once a client opened it again.
      const jobId = await submit(server, runnerTemp, { durationMs: 600, dropStream: true, text: 'after the drop' });
      const run = await wait(runnerTemp, jobId);
      expectSuccess(run);
      expect(run.outputs).toMatchObject({ status: 'completed', text: 'after the drop' });
      expect(server.stdout()).toMatch(/^STREAM_DROPPED /m);
    }, 40_000);
  },
);

describe('2026-07-28 server with pollIntervalMs 30000 and subscriptions/listen', () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startV2FixtureServer({ pollIntervalMs: 30_000 });
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('ends the wait on the task notification of its subscription, with the inlined result', async () => {
    const runnerTemp = makeRunnerTemp();
    // Long enough to be running when the wait's first poll reads it; the next poll would be 30 s later.
    const jobId = await submit(server, runnerTemp, { durationMs: 4_000, text: 'pushed v2' });
    const run = await wait(runnerTemp, jobId);
    expectSuccess(run);
    expect(run.outputs).toMatchObject({ status: 'completed', text: 'pushed v2' });
  }, 40_000);

  it('fans in: one wait on several jobs shares one subscription to the server, and hears every end', async () => {
    const runnerTemp = makeRunnerTemp();
    const jobIds: string[] = [];
    for (const durationMs of [3_000, 3_500, 4_000]) {
      jobIds.push(await submit(server, runnerTemp, { durationMs, text: `fan ${durationMs}` }));
    }
    const before = await listens(server);
    const run = await runEntry('wait', {
      runnerTemp,
      inputs: { 'job-id': jobIds.join(','), timeout: '25s' },
      timeoutMs: 28_000,
    });
    expectSuccess(run);
    for (const jobId of jobIds) expect(readRecord(runnerTemp, jobId).status).toBe('completed');
    // Fewer subscriptions than jobs (one, unless the waits were slow to gather).
    expect((await listens(server)) - before).toBeLessThan(jobIds.length);
  }, 40_000);
});

/** How many subscriptions/listen streams the v2 fixture has opened. */
async function listens(server: RunningServer): Promise<number> {
  const response = await fetch(new URL('/_fixture/tasks', server.url));
  return ((await response.json()) as { listens: number }).listens;
}

describe('a 2026-07-28 server that deviates from the spec (fractional numbers, null fields, extra fields)', () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startV2FixtureServer({ pollIntervalMs: 200, deviant: true });
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('completes the job with its result and says once what it read leniently, naming the server', async () => {
    const runnerTemp = makeRunnerTemp();
    const submitted = await runEntry('submit', {
      runnerTemp,
      inputs: { server: server.url, tool: 'slow', arguments: JSON.stringify({ durationMs: 300, text: 'lenient' }) },
    });
    expectSuccess(submitted);
    const jobId = submitted.outputs['job-id']!;
    const run = await wait(runnerTemp, jobId);
    expectSuccess(run);
    expect(run.outputs).toMatchObject({ status: 'completed', text: 'lenient' });
    const warned = run.commands.filter((c) => c.command === 'warning').map((c) => c.message);
    const fractional = warned.filter((m) => m.includes('a fractional pollInterval'));
    expect(fractional).toHaveLength(1);
    expect(fractional[0]).toContain(`The MCP server ${server.url} sent`);
    // The tasks client refused the deviant create reply; submit read it all the same, and said so.
    const submitWarned = submitted.commands.filter((c) => c.command === 'warning').map((c) => c.message);
    expect(submitWarned).toContainEqual(expect.stringMatching(/sent a create reply the MCP tasks client refused/));
    // The record keeps what the server meant, as integers.
    expect(readRecord(runnerTemp, jobId).pollIntervalMs).toBe(200);
  }, 40_000);
});
