import { describe, expect, it } from '@jest/globals';
import { changeFromOutcome, waitJob, type WaitRequest } from '../../src/core/commands/wait.js';
import { JobError } from '../../src/core/errors.js';
import type { TaskOutcome, TaskSnapshot } from '../../src/core/ports.js';
import type { JobRecord } from '../../src/core/record.js';
import {
  endedJob,
  FakeConnection,
  harness,
  queuedJob,
  rejected,
  runningJob,
  SERVER_URL,
  T0,
  unreachable,
  untilAborted,
  type Harness,
} from './fakes.js';

const HEADERS = { Authorization: 'Bearer t' };
const RESULT = { content: [{ type: 'text', text: 'the answer' }], structuredContent: { answer: 42 } };

function request(job: string, overrides: Partial<WaitRequest> = {}): WaitRequest {
  return { instance: 'default', job, headers: HEADERS, cancelOnTimeout: true, ...overrides };
}

function seeded(h: Harness, record: JobRecord = runningJob()): JobRecord {
  return h.store.seed(record);
}

const completes =
  (outcome: TaskOutcome = { status: 'completed', result: RESULT }) =>
  async (): Promise<TaskOutcome> =>
    outcome;

describe('waitJob: from the record', () => {
  it.each(['completed', 'failed', 'canceled'] as const)('answers a %s job without the server', async (status) => {
    const h = harness();
    const job = seeded(h, endedJob(status));
    const result = await waitJob(h.ctx, request(job.jobId));
    expect(result).toEqual({ record: job, end: 'terminal', fromRecord: true });
    expect(h.tasks.opens).toHaveLength(0);
    expect(h.store.puts).toHaveLength(0);
  });

  it('records a job whose submit never got a task as failed TASK_LOST, without the server', async () => {
    const h = harness();
    const job = seeded(h, queuedJob());
    const result = await waitJob(h.ctx, request(job.jobId));
    expect(result.end).toBe('terminal');
    expect(result.fromRecord).toBe(false);
    expect(result.record).toMatchObject({ status: 'failed', error: { code: 'TASK_LOST' } });
    expect(result.record.error?.message).toContain(job.jobId);
    expect(h.store.stored(job)).toEqual(result.record);
    expect(h.tasks.opens).toHaveLength(0);
  });

  it('refuses an unknown job, naming the job-id input', async () => {
    const h = harness();
    seeded(h);
    const error = await rejected(waitJob(h.ctx, request('job_doesnotexist')));
    expect(error.code).toBe('JOB_NOT_FOUND');
    expect(error.input).toBe('job-id');
    expect(error.message).toContain("'job-id'");
    expect(error.message).toContain('job_doesnotexist');
    expect(error.message).toContain(h.store.description);
  });

  it('refuses latest when the instance has no jobs', async () => {
    const h = harness();
    h.store.seed(runningJob({ instance: 'other' }));
    const error = await rejected(waitJob(h.ctx, request('latest')));
    expect(error.code).toBe('JOB_NOT_FOUND');
    expect(error.input).toBe('job-id');
    expect(error.message).toContain('latest');
    expect(error.message).toContain("'default'");
  });
});

describe('waitJob: following the task', () => {
  it('records every status the server reports, then the outcome with its result', async () => {
    const h = harness();
    const job = seeded(h);
    const snapshots: TaskSnapshot[] = [
      { taskId: 'task-1', status: 'working', statusMessage: 'Gathering sources' },
      { taskId: 'task-1', status: 'input_required', statusMessage: 'Need a choice' },
      { taskId: 'task-1', status: 'working', statusMessage: 'Writing' },
      { taskId: 'task-1', status: 'working', statusMessage: 'Writing' },
      { taskId: 'task-1', status: 'completed', statusMessage: 'Done' },
    ];
    h.conn.onWatch = async (_remote, options) => {
      for (const task of snapshots) {
        h.clock.advance(1_000);
        await options.onStatus(task);
      }
      return { status: 'completed', result: RESULT, task: snapshots.at(-1)! };
    };
    const changes: string[] = [];
    // With answers supplied, a task that asks for input is followed on.
    const result = await waitJob(
      h.ctx,
      request(job.jobId, { answersInput: true, onChange: (r) => changes.push(r.status) }),
    );

    expect(h.store.puts.map((r) => [r.status, r.statusMessage])).toEqual([
      ['running', 'Gathering sources'],
      ['input_required', 'Need a choice'],
      ['running', 'Writing'],
      ['completed', 'Done'],
    ]);
    expect(changes).toEqual(['running', 'input_required', 'running', 'completed']);
    expect(result).toMatchObject({ end: 'terminal', fromRecord: false });
    expect(result.record).toMatchObject({ status: 'completed', remoteStatus: 'completed', result: RESULT });
    expect(result.record.finishedAt).toBe(h.clock.now().toISOString());
    expect(h.store.stored(job)).toEqual(result.record);
  });

  it('records the progress of a task it follows, but leaves a call the job runner owns to the runner', async () => {
    const h = harness();
    const task = seeded(h);
    h.conn.onWatch = async (_remote, options) => {
      await options.onProgress?.({ progress: 1, total: 2, message: 'half' });
      return { status: 'completed', result: RESULT };
    };
    await waitJob(h.ctx, request(task.jobId));
    expect(h.store.puts.some((put) => put.progress?.message === 'half')).toBe(true);

    // A plain call in the job runner: this wait's copy says queued, the runner has recorded it running meanwhile.
    const call = seeded(h, {
      ...queuedJob({ jobId: 'job_runnercall000001' }),
      kind: 'call',
      runner: { workflowJob: '1/1/build', host: 'h', socket: '/tmp/s', pid: 4242 },
      remote: { ...runningJob().remote!, taskId: 'call-job_runnercall000001' },
    });
    h.conn.onWatch = async (_remote, options) => {
      h.store.seed({ ...h.store.stored(call), status: 'running', remoteStatus: 'working' });
      await options.onProgress?.({ progress: 1, total: 2, message: 'runner half' });
      return { status: 'completed', result: RESULT };
    };
    const result = await waitJob(h.ctx, request(call.jobId));
    expect(result.record.status).toBe('completed');
    expect(h.log.infos).toContainEqual(expect.stringContaining('progress 1/2: runner half'));
    expect(h.store.puts.some((put) => put.progress?.message === 'runner half')).toBe(false);
  });

  it('rejoins the task session with the recorded server and the given headers', async () => {
    const h = harness();
    const job = seeded(h);
    h.conn.onWatch = completes();
    await waitJob(h.ctx, request(job.jobId, { pollFloorMs: 5_000 }));
    expect(h.tasks.opens).toHaveLength(1);
    expect(h.tasks.opens[0]?.target).toEqual({ url: SERVER_URL, headers: HEADERS });
    expect(h.tasks.opens[0]?.join).toEqual(job.remote);
    expect(h.conn.watchCalls[0]?.remote).toEqual(job.remote);
    expect(h.conn.watchCalls[0]?.options.pollFloorMs).toBe(5_000);
    expect(h.conn.closed).toBe(1);
  });

  it('follows the newest job for latest', async () => {
    const h = harness();
    seeded(h, runningJob({ now: T0 }, 'task-old'));
    const newer = seeded(h, runningJob({ now: new Date(T0.getTime() + 60_000) }, 'task-new'));
    seeded(h, runningJob({ now: new Date(T0.getTime() + 30_000) }, 'task-middle'));
    h.conn.onWatch = completes();
    const result = await waitJob(h.ctx, request('latest'));
    expect(result.record.jobId).toBe(newer.jobId);
    expect(h.conn.watchCalls[0]?.remote.taskId).toBe('task-new');
  });

  it('records a failed task with its error and the tool result', async () => {
    const h = harness();
    const job = seeded(h);
    const toolResult = { content: [{ type: 'text', text: 'bad input' }], isError: true };
    h.conn.onWatch = completes({
      status: 'failed',
      error: { code: -32603, message: 'Tool failed', data: { why: 'x' } },
      result: toolResult,
    });
    const result = await waitJob(h.ctx, request(job.jobId));
    expect(result.record).toMatchObject({
      status: 'failed',
      result: toolResult,
      error: { code: 'TASK_FAILED', message: 'Tool failed', data: { rpcCode: -32603, data: { why: 'x' } } },
    });
  });

  it('records a task cancelled by someone else as canceled, without a reason of ours', async () => {
    const h = harness();
    const job = seeded(h);
    h.conn.onWatch = completes({ status: 'cancelled' });
    const result = await waitJob(h.ctx, request(job.jobId));
    expect(result.record.status).toBe('canceled');
    expect(result.record.cancelReason).toBeUndefined();
    expect(h.conn.cancelCalls).toHaveLength(0);
  });

  it('fails with TASK_LOST when the server no longer knows the task (from watch), keeping the job running', async () => {
    const h = harness();
    const job = seeded(h);
    const lost = new JobError('TASK_LOST', 'The server no longer has task task-1 (its MCP session is gone)');
    h.conn.onWatch = async () => {
      throw lost;
    };
    const error = await rejected(waitJob(h.ctx, request(job.jobId)));
    expect(error.code).toBe('TASK_LOST');
    // Only the server ends a job: the record keeps its status and says why the wait failed.
    expect(h.store.stored(job)).toMatchObject({
      status: 'running',
      error: { code: 'TASK_LOST', message: lost.message },
    });
  });

  it('fails with TASK_LOST when rejoining the session fails so (from open), keeping the job running', async () => {
    const h = harness();
    const job = seeded(h);
    h.tasks.onOpen = async () => {
      throw new JobError('TASK_LOST', 'session gone');
    };
    const error = await rejected(waitJob(h.ctx, request(job.jobId)));
    expect(error.code).toBe('TASK_LOST');
    expect(h.store.stored(job)).toMatchObject({ status: 'running', error: { code: 'TASK_LOST' } });
  });

  it('rethrows an error it cannot retry and leaves the record as it was', async () => {
    const h = harness();
    const job = seeded(h);
    const bad = new JobError('PROTOCOL_ERROR', 'not MCP');
    h.conn.onWatch = async () => {
      throw bad;
    };
    // The same error, now naming the job it is about.
    await expect(waitJob(h.ctx, request(job.jobId))).rejects.toMatchObject({
      code: bad.code,
      jobId: job.jobId,
      message: `Job ${job.jobId}: ${bad.message}`,
    });
    expect(h.tasks.opens).toHaveLength(1);
    expect(h.store.puts).toHaveLength(0);
    expect(h.conn.closed).toBe(1);
  });
});

describe('waitJob: an unreachable server', () => {
  it('retries open() with growing backoff and finishes once the server is back', async () => {
    const h = harness();
    const job = seeded(h);
    h.conn.onWatch = completes();
    h.tasks.onOpen = async (attempt) => {
      if (attempt <= 3) throw unreachable();
      return h.conn;
    };
    const result = await waitJob(h.ctx, request(job.jobId));
    expect(result.record).toMatchObject({ status: 'completed', result: RESULT });
    expect(h.tasks.opens).toHaveLength(4);
    expect(h.clock.sleeps).toHaveLength(3);
    expect(h.clock.sleeps[0]).toBeGreaterThan(0);
    expect(h.clock.sleeps[1]).toBeGreaterThan(h.clock.sleeps[0]!);
    expect(h.clock.sleeps[2]).toBeGreaterThan(h.clock.sleeps[1]!);
    // One warning for the outage, quieter lines for each further try, and a line when the server is back.
    expect(h.log.warnings.filter((w) => w.includes('retrying'))).toHaveLength(1);
    expect(h.log.debugs.filter((d) => d.includes('still unreachable'))).toHaveLength(2);
  });

  it('reconnects with a new connection when watch loses the server', async () => {
    const h = harness();
    const job = seeded(h);
    const first = new FakeConnection();
    first.onWatch = async () => {
      throw unreachable('other side closed');
    };
    const second = new FakeConnection();
    second.onWatch = completes();
    h.tasks.onOpen = async (attempt) => (attempt === 1 ? first : second);
    const result = await waitJob(h.ctx, request(job.jobId));
    expect(result.record.status).toBe('completed');
    expect(first.closed).toBe(1);
    expect(second.closed).toBe(1);
    expect(h.clock.sleeps).toHaveLength(1);
  });

  it('gives up at the deadline with SERVER_UNREACHABLE saying so, never sleeping past it', async () => {
    const h = harness();
    const job = seeded(h);
    h.tasks.onOpen = async () => {
      throw unreachable('connect ECONNREFUSED');
    };
    const timeoutMs = 60_000;
    const error = await rejected(waitJob(h.ctx, request(job.jobId, { timeoutMs })));
    expect(error.code).toBe('SERVER_UNREACHABLE');
    expect(error.retryable).toBe(false);
    expect(error.jobId).toBe(job.jobId);
    expect(error.message).toContain(SERVER_URL);
    expect(error.message).toContain('unreachable');
    expect(error.message).toContain('task-1');
    expect(error.message).toContain('ECONNREFUSED');
    expect(h.clock.now().getTime() - T0.getTime()).toBe(timeoutMs);
    expect(h.clock.sleeps.reduce((a, b) => a + b, 0)).toBe(timeoutMs);
    expect(h.conn.cancelCalls).toHaveLength(0);
    expect(h.store.puts).toHaveLength(0);
  });

  it('gives up after the grace period when the job has no deadline', async () => {
    const h = harness();
    const job = seeded(h);
    h.tasks.onOpen = async () => {
      throw unreachable();
    };
    const error = await rejected(waitJob(h.ctx, request(job.jobId, { unreachableGraceMs: 5_000 })));
    expect(error.code).toBe('SERVER_UNREACHABLE');
    expect(h.clock.now().getTime() - T0.getTime()).toBe(5_000);
  });

  it('tries a cancel at the deadline even while the server was unreachable, then reports it unreachable', async () => {
    const h = harness();
    const job = seeded(h);
    h.tasks.onOpen = async () => {
      throw unreachable();
    };
    h.clock.hang = true;
    const error = await rejected(waitJob(h.ctx, request(job.jobId, { timeoutMs: 5 })));
    expect(error.code).toBe('SERVER_UNREACHABLE');
    expect(error.message).toContain('task-1');
    // The wait's own connection, then the cancel's: both refused.
    expect(h.tasks.opens).toHaveLength(2);
    expect(h.store.puts).toHaveLength(0);
  });

  it('cancels the task when the server is back just as the deadline passes', async () => {
    const h = harness();
    const job = seeded(h);
    h.tasks.onOpen = async (attempt) => {
      if (attempt === 1) throw unreachable();
      return h.conn;
    };
    h.clock.hang = true;
    const result = await waitJob(h.ctx, request(job.jobId, { timeoutMs: 5 }));
    expect(h.conn.cancelCalls).toHaveLength(1);
    expect(result.record).toMatchObject({ status: 'canceled', cancelReason: 'timeout' });
  });
});

describe('waitJob: deadline and interrupt', () => {
  it('cancels the task at the deadline and records it canceled by timeout', async () => {
    const h = harness();
    const job = seeded(h);
    const result = await waitJob(h.ctx, request(job.jobId, { timeoutMs: 5 }));
    expect(h.conn.cancelCalls).toHaveLength(1);
    expect(h.conn.cancelCalls[0]?.remote).toEqual(job.remote);
    expect(result.end).toBe('terminal');
    expect(result.record).toMatchObject({ status: 'canceled', cancelReason: 'timeout', remoteStatus: 'cancelled' });
    expect(h.store.stored(job)).toEqual(result.record);
    // The cancel goes over a connection of its own: the wait's is bounded by the deadline that just passed.
    expect(h.tasks.opens).toHaveLength(2);
    expect(h.tasks.opens[1]?.deadline).toBeGreaterThan(Date.parse(result.record.createdAt));
    expect(h.conn.closed).toBe(2);
  });

  it('uses the deadline recorded at submit when the wait has no timeout of its own', async () => {
    const h = harness();
    const job = seeded(h, runningJob({ deadline: new Date(T0.getTime() - 1).toISOString() }));
    const result = await waitJob(h.ctx, request(job.jobId));
    expect(result.record).toMatchObject({ status: 'canceled', cancelReason: 'timeout' });
  });

  it("lets the wait's own timeout override the recorded deadline", async () => {
    const h = harness();
    const job = seeded(h, runningJob({ deadline: new Date(T0.getTime() - 1).toISOString() }));
    h.conn.onWatch = async () => {
      await new Promise((resolve) => setTimeout(resolve, 20));
      return { status: 'completed', result: RESULT };
    };
    const result = await waitJob(h.ctx, request(job.jobId, { timeoutMs: 60_000 }));
    expect(result.record.status).toBe('completed');
    expect(h.conn.cancelCalls).toHaveLength(0);
  });

  it('leaves the task running at the deadline when cancel-on-timeout is false', async () => {
    const h = harness();
    const job = seeded(h);
    const result = await waitJob(h.ctx, request(job.jobId, { timeoutMs: 5, cancelOnTimeout: false }));
    expect(result.end).toBe('timeout');
    expect(result.record.status).toBe('running');
    expect(h.conn.cancelCalls).toHaveLength(0);
    expect(h.store.stored(job).status).toBe('running');
    expect(h.log.warnings.join('\n')).toContain('cancel-on-timeout');
  });

  it('ends in timeout with the job still running when the server has not finished cancelling', async () => {
    const h = harness();
    const job = seeded(h);
    h.conn.onCancel = async (remote) => ({ taskId: remote.taskId, status: 'working', statusMessage: 'Stopping' });
    const result = await waitJob(h.ctx, request(job.jobId, { timeoutMs: 5 }));
    expect(result.end).toBe('timeout');
    expect(result.record).toMatchObject({ status: 'running', statusMessage: 'Stopping' });
    expect(result.record.cancelReason).toBeUndefined();
  });

  it('records the real end when the task finished before the cancel reached it', async () => {
    const h = harness();
    const job = seeded(h);
    let watches = 0;
    h.conn.onWatch = (_remote, options) =>
      ++watches === 1 ? untilAborted(options.signal) : Promise.resolve({ status: 'completed', result: RESULT });
    h.conn.onCancel = async (remote) => ({ taskId: remote.taskId, status: 'completed' });
    const result = await waitJob(h.ctx, request(job.jobId, { timeoutMs: 5 }));
    expect(result.end).toBe('terminal');
    expect(result.record).toMatchObject({ status: 'completed', result: RESULT });
    expect(result.record.cancelReason).toBeUndefined();
  });

  it('keeps the record unfinished when the cancel at the deadline fails', async () => {
    const h = harness();
    const job = seeded(h);
    h.conn.onCancel = async () => {
      throw unreachable();
    };
    const result = await waitJob(h.ctx, request(job.jobId, { timeoutMs: 5 }));
    expect(result.end).toBe('timeout');
    expect(result.record.status).toBe('running');
    expect(h.log.warnings.some((w) => w.includes('cancelling task task-1 failed'))).toBe(true);
  });

  it('cancels the task when the step is stopped and records it canceled by signal', async () => {
    const h = harness();
    const job = seeded(h);
    const interrupt = new AbortController();
    h.conn.onWatch = (_remote, options) => {
      interrupt.abort(new Error('Stopped by SIGINT'));
      return untilAborted(options.signal);
    };
    const result = await waitJob(h.ctx, request(job.jobId, { interrupt: interrupt.signal }));
    expect(h.conn.cancelCalls).toHaveLength(1);
    expect(result.end).toBe('terminal');
    expect(result.record).toMatchObject({ status: 'canceled', cancelReason: 'signal' });
    expect(h.store.stored(job).status).toBe('canceled');
  });

  it('cancels at once when the step was already stopped', async () => {
    const h = harness();
    const job = seeded(h);
    const interrupt = new AbortController();
    interrupt.abort(new Error('Stopped by SIGTERM'));
    const result = await waitJob(h.ctx, request(job.jobId, { interrupt: interrupt.signal }));
    expect(result.record).toMatchObject({ status: 'canceled', cancelReason: 'signal' });
  });

  it('ends interrupted, record unfinished, when the cancel after a stop fails', async () => {
    const h = harness();
    const job = seeded(h);
    const interrupt = new AbortController();
    h.conn.onWatch = (_remote, options) => {
      interrupt.abort(new Error('Stopped by SIGINT'));
      return untilAborted(options.signal);
    };
    h.conn.onCancel = async () => {
      throw unreachable();
    };
    const result = await waitJob(h.ctx, request(job.jobId, { interrupt: interrupt.signal }));
    expect(result.end).toBe('interrupted');
    expect(result.record.status).toBe('running');
    expect(h.store.stored(job).status).toBe('running');
  });

  it('cancels through a new connection when stopped while the server was unreachable', async () => {
    const h = harness();
    const job = seeded(h);
    const interrupt = new AbortController();
    h.tasks.onOpen = async (attempt) => {
      if (attempt === 1) throw unreachable();
      return h.conn;
    };
    h.clock.hang = true;
    const waiting = waitJob(h.ctx, request(job.jobId, { interrupt: interrupt.signal }));
    await new Promise((resolve) => setImmediate(resolve));
    expect(h.clock.sleeps).toHaveLength(1);
    interrupt.abort(new Error('Stopped by SIGINT'));
    const result = await waiting;
    expect(h.tasks.opens).toHaveLength(2);
    expect(h.conn.cancelCalls).toHaveLength(1);
    expect(result.record).toMatchObject({ status: 'canceled', cancelReason: 'signal' });
    expect(h.conn.closed).toBe(1);
  });
});

describe('changeFromOutcome', () => {
  it('keeps the task snapshot fields with the outcome', () => {
    expect(
      changeFromOutcome({
        status: 'completed',
        result: RESULT,
        task: { taskId: 't', status: 'completed', statusMessage: 'Done', ttlMs: null, pollIntervalMs: 100 },
      }),
    ).toEqual({
      status: 'completed',
      remoteStatus: 'completed',
      statusMessage: 'Done',
      ttlMs: null,
      pollIntervalMs: 100,
      result: RESULT,
    });
  });

  it('records a failure without an RPC code without data', () => {
    expect(changeFromOutcome({ status: 'failed', error: { message: 'nope' } })).toEqual({
      status: 'failed',
      remoteStatus: 'failed',
      error: { code: 'TASK_FAILED', message: 'nope' },
    });
  });
});

describe('waitJob: input the task asks for', () => {
  it('ends the wait with INPUT_REQUIRED when no answers were supplied, the job recorded as asking', async () => {
    const h = harness();
    const job = seeded(h);
    h.conn.onWatch = async (_remote, options) => {
      await options.onStatus({ taskId: 'task-1', status: 'input_required', statusMessage: 'Confirm the deploy?' });
      return untilAborted(options.signal);
    };
    const error = await rejected(waitJob(h.ctx, request(job.jobId)));
    expect(error.code).toBe('INPUT_REQUIRED');
    expect(error.input).toBe('input-responses');
    expect(error.message).toContain('Confirm the deploy?');
    expect(h.store.stored(job)).toMatchObject({ status: 'input_required', statusMessage: 'Confirm the deploy?' });
    expect(h.conn.cancelCalls).toHaveLength(0);
  });
});
