/**
 * Cancellation end to end: the cancel entry, wait's own timeout, the runner's SIGINT, and the post step after a
 * killed main. Each checks what the fixture server really holds afterwards, not only what we recorded.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { readRecord } from '../helpers/jobs.js';
import { describeRun, makeRunnerTemp, runEntry, type RunEntryResult } from '../helpers/runner.js';
import { fixtureTask, startFixtureServer, type RunningServer } from '../helpers/servers.js';

let server: RunningServer;

beforeAll(async () => {
  server = await startFixtureServer({ pollIntervalMs: 200 });
});
afterAll(async () => {
  await server?.stop();
});

async function submit(runnerTemp: string, tool: string, args: object = {}, extra: Record<string, string> = {}) {
  const run = await runEntry('submit', {
    runnerTemp,
    inputs: { server: server.url, tool, arguments: JSON.stringify(args), ...extra },
  });
  if (run.code !== 0) throw new Error(`submit failed\n${describeRun(run)}`);
  return { jobId: run.outputs['job-id']!, taskId: run.outputs['task-id']! };
}

function errorAnnotations(run: RunEntryResult): string[] {
  return run.commands.filter((c) => c.command === 'error').map((c) => c.message);
}

describe('cancel', () => {
  it('cancels a running task on the server and reports the status the server holds', async () => {
    const runnerTemp = makeRunnerTemp();
    const { jobId, taskId } = await submit(runnerTemp, 'until-cancelled', {}, { 'task-ttl': '90s' });
    // The requested TTL reached the server, and the record keeps what the server chose.
    expect((await fixtureTask(server, taskId))?.ttl).toBe(90_000);
    expect(readRecord(runnerTemp, jobId)).toMatchObject({ requestedTtlMs: 90_000, ttlMs: 90_000 });
    const run = await runEntry('cancel', { runnerTemp, inputs: { 'job-id': jobId, reason: 'release abandoned' } });
    expect({ code: run.code, run: run.code === 0 ? '' : describeRun(run) }).toEqual({ code: 0, run: '' });
    expect(run.outputs.status).toBe('canceled');
    expect(run.outputs['task-id']).toBe(taskId);
    expect((await fixtureTask(server, taskId))?.status).toBe('cancelled');
    const record = readRecord(runnerTemp, jobId);
    expect(record).toMatchObject({ status: 'canceled', remoteStatus: 'cancelled', cancelReason: 'user' });
    expect(record.statusMessage).toContain('release abandoned');
    expect(run.summary).toContain('canceled');
  });

  it('cancelling a job that already ended is a no-op that says so', async () => {
    const runnerTemp = makeRunnerTemp();
    const { jobId } = await submit(runnerTemp, 'slow', { durationMs: 100 });
    const wait = await runEntry('wait', { runnerTemp, inputs: { 'job-id': jobId } });
    expect(wait.outputs.status).toBe('completed');
    const before = readRecord(runnerTemp, jobId);
    const run = await runEntry('cancel', { runnerTemp, inputs: { 'job-id': 'latest' } });
    expect(run.code).toBe(0);
    expect(run.outputs.status).toBe('completed');
    expect(run.stdout).toMatch(/already ended completed; nothing (to cancel|was cancelled)/);
    expect(readRecord(runnerTemp, jobId)).toEqual(before);
  });
});

describe('wait timeout', () => {
  it('cancels the remote task, records reason timeout and fails the step', async () => {
    const runnerTemp = makeRunnerTemp();
    const { jobId, taskId } = await submit(runnerTemp, 'until-cancelled');
    const run = await runEntry('wait', { runnerTemp, inputs: { 'job-id': jobId, 'timeout-minutes': '2s' } });
    expect(run.code).toBe(1);
    expect(run.outputs.status).toBe('canceled');
    expect(errorAnnotations(run).join('\n')).toMatch(
      /timed out \(.* after submit\); task .* was canceled on the server/,
    );
    expect((await fixtureTask(server, taskId))?.status).toBe('cancelled');
    expect(readRecord(runnerTemp, jobId)).toMatchObject({ status: 'canceled', cancelReason: 'timeout' });
  });

  it('uses the deadline recorded at submit when wait has no timeout of its own', async () => {
    const runnerTemp = makeRunnerTemp();
    const { jobId, taskId } = await submit(runnerTemp, 'until-cancelled', {}, { 'timeout-minutes': '3s' });
    const run = await runEntry('wait', { runnerTemp, inputs: { 'job-id': jobId } });
    expect(run.code).toBe(1);
    expect(run.outputs.status).toBe('canceled');
    expect((await fixtureTask(server, taskId))?.status).toBe('cancelled');
  });

  it('leaves the task running with cancel-on-timeout false, and fail-on-error false keeps the step green', async () => {
    const runnerTemp = makeRunnerTemp();
    const { jobId, taskId } = await submit(runnerTemp, 'until-cancelled');
    const run = await runEntry('wait', {
      runnerTemp,
      inputs: { 'job-id': jobId, 'timeout-minutes': '1s', 'cancel-on-timeout': 'false', 'fail-on-error': 'false' },
    });
    expect(run.code).toBe(0);
    expect(run.outputs.status).toBe('running');
    expect(run.stdout).toMatch(
      /timed out \(.* after submit\); task .* is still (working|running) on the server \(fail-on-error is false\)/,
    );
    expect((await fixtureTask(server, taskId))?.status).toBe('working');
    expect(readRecord(runnerTemp, jobId).status).toBe('running');
    // Clean up: a later cancel still reaches it.
    const cancel = await runEntry('cancel', { runnerTemp, inputs: { 'job-id': jobId } });
    expect(cancel.outputs.status).toBe('canceled');
  });
});

describe('signals', () => {
  it('SIGINT to wait cancels the remote task before wait exits and records reason signal', async () => {
    const runnerTemp = makeRunnerTemp();
    const { jobId, taskId } = await submit(runnerTemp, 'until-cancelled');
    const run = await runEntry('wait', {
      runnerTemp,
      inputs: { 'job-id': jobId },
      signalAfter: { signal: 'SIGINT', whenStdoutMatches: /::group::Waiting for/, afterMs: 300 },
    });
    expect(run.signalSentAtMs).not.toBeNull();
    expect(run.code).toBe(1);
    expect((await fixtureTask(server, taskId))?.status).toBe('cancelled');
    // By the time wait exited, the server had cancelled the task and the record said why (speed: npm run bench).
    const record = readRecord(runnerTemp, jobId);
    expect(record).toMatchObject({ status: 'canceled', cancelReason: 'signal' });
    expect(errorAnnotations(run).join('\n')).toMatch(/stopped/);
  });

  it('SIGINT to the root action cancels its task too', async () => {
    const run = await runEntry('call', {
      inputs: { server: server.url, tool: 'until-cancelled' },
      signalAfter: { signal: 'SIGINT', whenStdoutMatches: /::group::Waiting for/, afterMs: 200 },
    });
    expect(run.code).toBe(1);
    const taskId = run.outputs['task-id']!;
    expect((await fixtureTask(server, taskId))?.status).toBe('cancelled');
  });

  it('SIGINT during submit leaves no task unrecorded: the task created in flight is recorded and cancelled', async () => {
    // This server holds its tools/call reply for 1.5 s after creating the task: the signal lands mid-call.
    const slowCreate = await startFixtureServer({ env: { FIXTURE_CREATE_DELAY_MS: '1500' } });
    try {
      const runnerTemp = makeRunnerTemp();
      const created = slowCreate.waitForStdout(/CREATED (\S+) until-cancelled/, 20_000);
      const run = await runEntry('submit', {
        runnerTemp,
        inputs: { server: slowCreate.url, tool: 'until-cancelled' },
        signalAfter: { signal: 'SIGINT', when: created },
      });
      expect(run.code).toBe(1);
      const [, taskId] = (await slowCreate.waitForStdout(/CREATED (\S+) until-cancelled/, 1000)) ?? [];
      const jobId = run.outputs['job-id']!;
      const record = readRecord(runnerTemp, jobId);
      expect(record).toMatchObject({ status: 'canceled', cancelReason: 'signal', remote: { taskId } });
      expect((await fixtureTask(slowCreate, taskId!))?.status).toBe('cancelled');
      expect(run.outputs['task-id']).toBe(taskId);
    } finally {
      await slowCreate.stop();
    }
  });

  it('the post step cancels the remote task when main was killed outright', async () => {
    const runnerTemp = makeRunnerTemp();
    const { jobId, taskId } = await submit(runnerTemp, 'until-cancelled');
    const main = await runEntry('wait', {
      runnerTemp,
      inputs: { 'job-id': jobId },
      signalAfter: { signal: 'SIGKILL', whenStdoutMatches: /::group::Waiting for/, afterMs: 200 },
    });
    expect(main.signal).toBe('SIGKILL');
    expect(main.state['main-done']).toBeUndefined();
    expect((await fixtureTask(server, taskId))?.status).toBe('working');
    const post = await runEntry('post', { runnerTemp, inputs: {}, state: main.state });
    expect({ code: post.code, run: post.code === 0 ? '' : describeRun(post) }).toEqual({ code: 0, run: '' });
    expect(post.stdout).toContain(`cancelling task ${taskId}`);
    expect((await fixtureTask(server, taskId))?.status).toBe('cancelled');
    expect(readRecord(runnerTemp, jobId)).toMatchObject({ status: 'canceled', cancelReason: 'signal' });
  });
});
