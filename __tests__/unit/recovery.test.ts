/**
 * A submit whose call reply never arrived (killed, network gone) leaves a queued record with the session the call
 * went over: wait, cancel and a later submit find the task there instead of declaring it never existed. And a
 * question a 2025-11-25 server asked an earlier step cannot be answered later: the wait says so at once.
 */
import { describe, expect, it } from '@jest/globals';
import { cancelJob } from '../../src/core/commands/cancel.js';
import { submitJob } from '../../src/core/commands/submit.js';
import { waitJob } from '../../src/core/commands/wait.js';
import { JobError } from '../../src/core/errors.js';
import { applyChange, type JobRecord } from '../../src/core/record.js';
import { backoff } from '../../src/core/retry.js';
import { harness, queuedJob, rejected, runningJob, SERVER_URL, sessionRef, T0, unreachable } from './fakes.js';

const HEADERS = { Authorization: 'Bearer t' };
const RESULT = { content: [{ type: 'text', text: 'the answer' }] };

/** The record a submit leaves when it was killed after sending the call: queued, with the call's session. */
function sentButUnanswered(): JobRecord {
  return applyChange(queuedJob(), { status: 'queued', callSession: sessionRef('session-9') }, T0).record;
}

describe('submit: a call whose reply was lost', () => {
  const request = {
    instance: 'default',
    server: { url: SERVER_URL, headers: HEADERS },
    tool: 'research',
    arguments: { topic: 'tides' },
    redact: [],
  };

  it('adopts the task the call created, found in the session it was sent over', async () => {
    const h = harness();
    h.conn.onSubmit = async () => {
      throw unreachable('socket hang up');
    };
    h.conn.onSessionTasks = async () => [{ taskId: 'task-7', status: 'working' }];
    const job = await submitJob(h.ctx, request);
    expect(job).toMatchObject({ status: 'running', remote: { taskId: 'task-7', sessionId: 'session-of-task-1' } });
    expect(h.log.warnings.some((w) => w.includes('was lost'))).toBe(true);
  });

  it('keeps looking while the server is unreachable, then adopts the task', async () => {
    const h = harness();
    h.conn.onSubmit = async () => {
      throw unreachable('socket hang up');
    };
    let lookups = 0;
    h.conn.onSessionTasks = async () => {
      if (++lookups < 3) throw unreachable();
      return [{ taskId: 'task-7', status: 'working' }];
    };
    const job = await submitJob(h.ctx, request);
    expect(job.remote?.taskId).toBe('task-7');
    expect(h.clock.sleeps).toHaveLength(2);
  });

  it('fails the job when the session shows the call created no task', async () => {
    const h = harness();
    const lost = unreachable('socket hang up');
    h.conn.onSubmit = async () => {
      throw lost;
    };
    const error = await rejected(submitJob(h.ctx, request));
    expect(error.code).toBe('SERVER_UNREACHABLE');
    expect(h.store.stored({ instance: 'default', jobId: error.jobId! })).toMatchObject({ status: 'failed' });
  });

  it('leaves the job queued with its session when the protocol cannot list tasks', async () => {
    const h = harness();
    h.conn.onSubmit = async () => {
      throw unreachable('socket hang up');
    };
    h.conn.onSessionTasks = async () => undefined;
    const error = await rejected(submitJob(h.ctx, request));
    expect(error.message).toMatch(/cannot list tasks.*stays queued/);
    const stored = h.store.stored({ instance: 'default', jobId: error.jobId! });
    expect(stored).toMatchObject({ status: 'queued', callSession: h.conn.sessionRef });
  });

  it('does not look for a task when the server refused the call', async () => {
    const h = harness();
    h.conn.onSubmit = async () => {
      throw new JobError('TOOL_NOT_FOUND', "Input 'tool': no tool 'research'", { input: 'tool' });
    };
    await rejected(submitJob(h.ctx, request));
    expect(h.conn.sessionTasksCalls).toBe(0);
  });
});

describe('wait and cancel: a job whose submit never learned its task', () => {
  it('wait finds the task in the recorded session, adopts it and follows it to its end', async () => {
    const h = harness();
    const job = h.store.seed(sentButUnanswered());
    h.conn.onSessionTasks = async () => [{ taskId: 'task-7', status: 'working' }];
    h.conn.onWatch = async () => ({ status: 'completed', result: RESULT });
    const result = await waitJob(h.ctx, {
      instance: 'default',
      job: job.jobId,
      headers: HEADERS,
      cancelOnTimeout: true,
    });
    expect(h.tasks.opens[0]?.join).toEqual(sessionRef('session-9'));
    expect(h.conn.watchCalls[0]?.remote).toEqual({ ...sessionRef('session-9'), taskId: 'task-7' });
    expect(result.record).toMatchObject({ status: 'completed', remote: { taskId: 'task-7' }, result: RESULT });
  });

  it('wait records the job failed TASK_LOST when the session holds no task', async () => {
    const h = harness();
    const job = h.store.seed(sentButUnanswered());
    const result = await waitJob(h.ctx, {
      instance: 'default',
      job: job.jobId,
      headers: HEADERS,
      cancelOnTimeout: true,
    });
    expect(result.record).toMatchObject({ status: 'failed', error: { code: 'TASK_LOST' } });
    expect(result.record.error?.message).toContain('session holds none');
  });

  it('wait fails TASK_LOST, keeping the job queued, where the protocol cannot list tasks', async () => {
    const h = harness();
    const job = h.store.seed(sentButUnanswered());
    h.conn.onSessionTasks = async () => undefined;
    const error = await rejected(
      waitJob(h.ctx, { instance: 'default', job: job.jobId, headers: HEADERS, cancelOnTimeout: true }),
    );
    expect(error.code).toBe('TASK_LOST');
    expect(h.store.stored(job).status).toBe('queued');
  });

  it('cancel finds the task in the recorded session and cancels it', async () => {
    const h = harness();
    const job = h.store.seed(sentButUnanswered());
    h.conn.onSessionTasks = async () => [{ taskId: 'task-7', status: 'working' }];
    const { record, sent } = await cancelJob(h.ctx, { instance: 'default', job: job.jobId, headers: HEADERS });
    expect(sent).toBe(true);
    expect(h.conn.cancelCalls[0]?.remote.taskId).toBe('task-7');
    expect(record).toMatchObject({ status: 'canceled', cancelReason: 'user', remote: { taskId: 'task-7' } });
  });

  it('cancel records the job canceled, sending nothing, when the session holds no task', async () => {
    const h = harness();
    const job = h.store.seed(sentButUnanswered());
    const { record, sent } = await cancelJob(h.ctx, { instance: 'default', job: job.jobId, headers: HEADERS });
    expect(sent).toBe(false);
    expect(h.conn.cancelCalls).toHaveLength(0);
    expect(record.status).toBe('canceled');
  });
});

describe('wait: questions', () => {
  it('records an unanswered question with the job, then ends with INPUT_REQUIRED', async () => {
    const h = harness();
    const job = h.store.seed(runningJob());
    h.conn.onWatch = async (_remote, options) => {
      await options.onQuestion?.({ message: 'elicitation: Which region?' }, false);
      throw new JobError('INPUT_REQUIRED', 'Task task-1 asks for input', { retryable: false });
    };
    const error = await rejected(
      waitJob(h.ctx, {
        instance: 'default',
        job: job.jobId,
        headers: HEADERS,
        cancelOnTimeout: true,
        answersInput: true,
      }),
    );
    expect(error.code).toBe('INPUT_REQUIRED');
    expect(h.store.stored(job)).toMatchObject({
      status: 'input_required',
      pendingInput: { message: 'elicitation: Which region?', delivered: true },
    });
  });

  it('records a question that input-responses answered in the history, and says it was answered', async () => {
    const h = harness();
    const job = h.store.seed(runningJob());
    h.conn.onWatch = async (remote, options) => {
      await options.onQuestion?.({ message: 'elicitation: Which region?', taskId: remote.taskId }, true);
      return { status: 'completed', result: RESULT };
    };
    const result = await waitJob(h.ctx, {
      instance: 'default',
      job: job.jobId,
      headers: HEADERS,
      cancelOnTimeout: true,
      answersInput: true,
    });
    expect(result.record.status).toBe('completed');
    expect(result.record.pendingInput).toBeUndefined();
    expect(result.record.events.map((e) => e.status)).toEqual(['queued', 'running', 'input_required', 'completed']);
    expect(h.log.infos.some((line) => line.includes('answered the server'))).toBe(true);
  });

  it('fails at once when an earlier step met a 2025-11-25 question the server still waits on', async () => {
    const h = harness();
    const asked = applyChange(
      runningJob(),
      {
        status: 'input_required',
        remoteStatus: 'input_required',
        pendingInput: { message: 'Which region?', askedAt: T0.toISOString(), delivered: true },
      },
      T0,
    ).record;
    const job = h.store.seed(asked);
    h.conn.onSnapshot = async (remote) => ({ taskId: remote.taskId, status: 'input_required' });
    const error = await rejected(
      waitJob(h.ctx, {
        instance: 'default',
        job: job.jobId,
        headers: HEADERS,
        cancelOnTimeout: true,
        answersInput: true,
      }),
    );
    expect(error.code).toBe('INPUT_REQUIRED');
    expect(error.message).toMatch(/earlier step.*sends its question once/);
    expect(h.conn.watchCalls).toHaveLength(0);
  });

  it('goes on waiting when the server has moved on from the question', async () => {
    const h = harness();
    const asked = applyChange(
      runningJob(),
      {
        status: 'input_required',
        pendingInput: { message: 'Which region?', askedAt: T0.toISOString(), delivered: true },
      },
      T0,
    ).record;
    const job = h.store.seed(asked);
    h.conn.onSnapshot = async (remote) => ({ taskId: remote.taskId, status: 'working' });
    h.conn.onWatch = async () => ({ status: 'completed', result: RESULT });
    const result = await waitJob(h.ctx, {
      instance: 'default',
      job: job.jobId,
      headers: HEADERS,
      cancelOnTimeout: true,
    });
    expect(result.record.status).toBe('completed');
    expect(result.record.pendingInput).toBeUndefined();
  });
});

describe('backoff', () => {
  it('doubles from the start up to the cap, and starts again after reset', () => {
    const pause = backoff({ startMs: 100, maxMs: 500, jitter: 0.5 }, () => 0);
    expect([pause.next(), pause.next(), pause.next(), pause.next(), pause.next()]).toEqual([100, 200, 400, 500, 500]);
    pause.reset();
    expect(pause.next()).toBe(100);
  });

  it('takes up to the jitter share off each delay', () => {
    const pause = backoff({ startMs: 1_000, maxMs: 1_000, jitter: 0.5 }, () => 1);
    expect(pause.next()).toBe(500);
  });
});
