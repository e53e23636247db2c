/** One test per bug found in review, so none of them comes back. */
import { describe, expect, it } from '@jest/globals';
import { cancelJob } from '../../src/core/commands/cancel.js';
import { submitJob, type SubmitRequest } from '../../src/core/commands/submit.js';
import { waitJob } from '../../src/core/commands/wait.js';
import { JobError } from '../../src/core/errors.js';
import { parseDuration, parseHeaders, parseJsonObject, redactArguments } from '../../src/core/parse.js';
import { applyChange, createRecord, mergeRecords, parseRecord } from '../../src/core/record.js';
import { toJobError } from '../../src/mcp/errors.js';
import { harness, rejected, remoteRef, runningJob, SERVER_URL, T0, thrown, unreachable } from './fakes.js';

function submitRequest(overrides: Partial<SubmitRequest> = {}): SubmitRequest {
  return {
    instance: 'default',
    server: { url: SERVER_URL, headers: {} },
    tool: 'slow',
    arguments: {},
    redact: [],
    ...overrides,
  };
}

describe('wait', () => {
  it('gives up after the grace period when rejoining succeeds but watching keeps failing', async () => {
    const h = harness();
    const job = h.store.seed(runningJob());
    h.conn.onWatch = async () => {
      throw unreachable();
    };
    const guard = new AbortController();
    const sleep = h.clock.sleep.bind(h.clock);
    h.clock.sleep = (ms, signal) => {
      if (h.clock.sleeps.length > 50) guard.abort(new Error('looping'));
      return sleep(ms, signal);
    };
    const error = await rejected(
      waitJob(h.ctx, {
        instance: 'default',
        job: job.jobId,
        headers: {},
        cancelOnTimeout: false,
        unreachableGraceMs: 5_000,
        interrupt: guard.signal,
      }),
    );
    expect(error.code).toBe('SERVER_UNREACHABLE');
    expect(h.clock.now().getTime() - T0.getTime()).toBe(5_000);
  });

  it('does not fire a deadline beyond the 24.8-day timer limit at once', async () => {
    const h = harness();
    const job = h.store.seed(runningJob());
    h.conn.onWatch = () =>
      new Promise((resolve) => setTimeout(() => resolve({ status: 'completed', result: { content: [] } }), 20));
    const result = await waitJob(h.ctx, {
      instance: 'default',
      job: job.jobId,
      headers: {},
      cancelOnTimeout: true,
      timeoutMs: 30 * 24 * 3_600_000,
    });
    expect(result.record.status).toBe('completed');
    expect(h.conn.cancelCalls).toHaveLength(0);
  });
});

describe('submit', () => {
  it('leaves a task that already ended at creation for wait to collect, result included', async () => {
    const h = harness();
    h.conn.onSubmit = async () => ({ remote: remoteRef(), task: { taskId: 'task-1', status: 'completed' } });
    const job = await submitJob(h.ctx, submitRequest());
    expect(job.status).toBe('running');
    h.conn.onWatch = async () => ({ status: 'completed', result: { content: [] } });
    const waited = await waitJob(h.ctx, { instance: 'default', job: job.jobId, headers: {}, cancelOnTimeout: true });
    expect(waited.record.result).toEqual({ content: [] });
  });

  it('keeps a task that completed before the interrupt cancel reached it collectable', async () => {
    const h = harness();
    const interrupt = new AbortController();
    h.conn.onSubmit = async () => {
      interrupt.abort(new Error('SIGINT'));
      return { remote: remoteRef(), task: { taskId: 'task-1', status: 'working' } };
    };
    h.conn.onCancel = async (remote) => ({ taskId: remote.taskId, status: 'completed' });
    const job = await submitJob(h.ctx, submitRequest({ interrupt: interrupt.signal }));
    expect(job.status).toBe('running');
    // The cancel was bounded in time.
    expect(h.conn.cancelCalls[0]?.signal).toBeInstanceOf(AbortSignal);
  });

  it('does not adopt a job-key job whose submit died before the server created a task', async () => {
    const h = harness();
    const stale = h.store.seed(createRecord({ ...baseJob(), jobKey: 'deploy', now: T0 }));
    h.conn.onSubmit = async () => ({ remote: remoteRef('task-2'), task: { taskId: 'task-2', status: 'working' } });
    const job = await submitJob(h.ctx, submitRequest({ jobKey: 'deploy' }));
    expect(job.jobId).not.toBe(stale.jobId);
    expect(h.conn.submitCalls).toHaveLength(1);
  });
});

describe('cancel', () => {
  it('records a task lost when rejoining its session fails with TASK_LOST', async () => {
    const h = harness();
    const job = h.store.seed(runningJob());
    h.tasks.onOpen = async () => {
      throw new JobError('TASK_LOST', 'gone');
    };
    await expect(cancelJob(h.ctx, { instance: 'default', job: job.jobId, headers: {} })).rejects.toMatchObject({
      code: 'TASK_LOST',
    });
    expect(h.store.stored(job)).toMatchObject({ status: 'running', error: { code: 'TASK_LOST' } });
  });
});

describe('parsing never echoes secrets', () => {
  it('invalid arguments JSON', () => {
    const message = thrown(() => parseJsonObject('arguments', '{"token": sk-live-SECRET}')).message;
    expect(message).toMatch(/^Input 'arguments' is not valid JSON/);
    expect(message).not.toContain('SECRET');
  });

  it.each(['Bearer sk-SECRET-abc: x', 'sk-SECRET-abc:'])('header line %p', (line) => {
    expect(thrown(() => parseHeaders('headers', line)).message).not.toContain('SECRET');
  });
});

describe('small parsing holes', () => {
  it('redacts own properties only', () => {
    expect(redactArguments({ a: 1 }, ['toString', 'constructor', '__proto__.toString'])).toEqual({ a: 1 });
    expect(Object.prototype.toString).not.toBe('***');
  });

  it('refuses durations that round to zero', () => {
    expect(() => parseDuration('x', '0.4ms')).toThrow(/at least 1ms/);
    expect(parseDuration('x', '1.4ms')).toBe(1);
  });

  it('reports a JSON-RPC error by its code, not as a malformed reply', () => {
    const error = Object.assign(
      new Error('MCP error -32602: Input validation error: Invalid input: expected string, received number'),
      { code: -32602 },
    );
    expect(toJobError(error, { url: 'http://x', doing: "calling tool 'x'" }).code).toBe('SERVER_ERROR');
  });
});

describe('records', () => {
  it('loads a record written before revisions existed', () => {
    const { revision: _dropped, ...old } = createRecord({ ...baseJob(), now: T0 });
    expect(parseRecord(JSON.stringify(old), 'old.json').revision).toBe(1);
  });

  it('merges two concurrent versions the same way whichever writer merges', () => {
    const base = createRecord({ ...baseJob(), now: T0 });
    const a = applyChange(base, { status: 'running', statusMessage: 'a' }, T0).record;
    const b = applyChange(base, { status: 'running', statusMessage: 'b' }, T0).record;
    expect(mergeRecords(a, b)).toEqual(mergeRecords(b, a));
  });
});

function baseJob() {
  return { instance: 'default', serverUrl: SERVER_URL, tool: 'slow', arguments: {}, redactedArguments: [] };
}
