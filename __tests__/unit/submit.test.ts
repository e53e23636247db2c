import { describe, expect, it } from '@jest/globals';
import { submitJob, type SubmitRequest } from '../../src/core/commands/submit.js';
import { JobError } from '../../src/core/errors.js';
import type { SubmittedTask } from '../../src/core/ports.js';
import {
  deferred,
  endedJob,
  harness,
  rejected,
  remoteRef,
  runningJob,
  SERVER_URL,
  T0,
  unreachable,
  type Harness,
} from './fakes.js';

const HEADER_SECRET = 'Bearer sk-header-SECRET-1';
const ARG_SECRET = 'sk-arg-SECRET-2';

function request(overrides: Partial<SubmitRequest> = {}): SubmitRequest {
  return {
    instance: 'default',
    server: { url: SERVER_URL, headers: { Authorization: HEADER_SECRET } },
    tool: 'research',
    arguments: { topic: 'tides', token: ARG_SECRET, auth: { password: 'pw-SECRET-3', user: 'ann' } },
    redact: ['token', 'auth.password'],
    ...overrides,
  };
}

function accepts(h: Harness, taskId = 'task-1'): SubmittedTask {
  const submitted: SubmittedTask = {
    remote: remoteRef(taskId),
    task: { taskId, status: 'working', statusMessage: 'Queued on the server', ttlMs: 60_000, pollIntervalMs: 500 },
  };
  h.conn.onSubmit = async () => submitted;
  return submitted;
}

describe('submitJob', () => {
  it('records the job as queued before contacting the server, then running with the task', async () => {
    const h = harness();
    const submitted = accepts(h);
    const job = await submitJob(h.ctx, request());

    // The session is recorded after connecting and before the call is sent: a later step can find the task in it.
    expect(h.trace).toEqual(['put:queued', 'open', 'put:queued', 'submit', 'put:running']);
    const [queued, withSession, running] = h.store.puts;
    expect(queued).toMatchObject({ jobId: job.jobId, status: 'queued', createdAt: T0.toISOString() });
    expect(queued?.remote).toBeUndefined();
    expect(queued?.callSession).toBeUndefined();
    expect(withSession).toMatchObject({ status: 'queued', callSession: h.conn.sessionRef });
    expect(withSession?.remote).toBeUndefined();
    expect(running).toMatchObject({
      jobId: job.jobId,
      status: 'running',
      remoteStatus: 'working',
      statusMessage: 'Queued on the server',
      ttlMs: 60_000,
      pollIntervalMs: 500,
      remote: submitted.remote,
    });
    expect(job).toEqual(h.store.stored(job));
    expect(h.conn.closed).toBe(1);
  });

  it('opens a new session with the headers and sends the real arguments and the TTL', async () => {
    const h = harness();
    accepts(h);
    const req = request({ ttlMs: 120_000 });
    const job = await submitJob(h.ctx, req);
    expect(h.tasks.opens).toHaveLength(1);
    expect(h.tasks.opens[0]?.target).toEqual(req.server);
    expect(h.tasks.opens[0]?.join).toBeUndefined();
    // The job's ID is its progress token: a later wait hears the task's progress under it.
    expect(h.conn.submitCalls[0]?.call).toEqual({
      tool: 'research',
      arguments: req.arguments,
      ttlMs: 120_000,
      progressToken: job.jobId,
      job: { instance: 'default', jobId: job.jobId },
    });
  });

  it('stores redacted arguments and no header value', async () => {
    const h = harness();
    accepts(h);
    const job = await submitJob(h.ctx, request());
    expect(job.arguments).toEqual({ topic: 'tides', token: '***', auth: { password: '***', user: 'ann' } });
    expect(job.redactedArguments).toEqual(['token', 'auth.password']);
    for (const stored of h.store.puts) {
      const text = JSON.stringify(stored);
      expect(text).not.toContain('SECRET');
      expect(text).not.toContain('Authorization');
    }
  });

  it('records the deadline, the requested TTL and the provenance', async () => {
    const h = harness();
    accepts(h);
    const deadline = new Date(T0.getTime() + 30 * 60_000);
    const job = await submitJob(h.ctx, request({ deadline, ttlMs: 90_000, github: { runId: '7', job: 'build' } }));
    expect(job.deadline).toBe(deadline.toISOString());
    expect(job.requestedTtlMs).toBe(90_000);
    expect(job.github).toEqual({ runId: '7', job: 'build' });
  });

  it('retries an unreachable server before the call is sent, warning once, and submits when it answers', async () => {
    const h = harness();
    accepts(h);
    let refused = 0;
    h.tasks.onOpen = async () => {
      if (refused++ < 3) throw unreachable('connect ECONNREFUSED');
      return h.conn;
    };
    const job = await submitJob(h.ctx, request());
    expect(job.status).toBe('running');
    expect(h.clock.sleeps).toHaveLength(3);
    expect(h.log.warnings).toEqual([expect.stringMatching(/ECONNREFUSED.*retrying until/)]);
    expect(h.store.puts.map((put) => put.status)).not.toContain('failed');
  });

  it('gives up on an unreachable server at the deadline, before the connect grace', async () => {
    const h = harness();
    h.tasks.onOpen = async () => {
      throw unreachable('connect ECONNREFUSED');
    };
    const deadline = new Date(T0.getTime() + 5_000);
    const error = await rejected(submitJob(h.ctx, request({ deadline })));
    expect(error.code).toBe('SERVER_UNREACHABLE');
    expect(h.clock.now().getTime()).toBe(deadline.getTime());
    expect(h.store.puts.at(-1)).toMatchObject({ status: 'failed', error: { code: 'SERVER_UNREACHABLE' } });
  });

  it('records an open() failure as failed with its code and rethrows it naming the job', async () => {
    const h = harness();
    const cause = unreachable('connect ECONNREFUSED');
    h.tasks.onOpen = async () => {
      throw cause;
    };
    const error = await rejected(submitJob(h.ctx, request()));

    const stored = h.store.puts.at(-1)!;
    expect(stored.status).toBe('failed');
    // Retried for a minute (the connect grace) first: the error says so.
    expect(stored.error).toEqual({
      code: 'SERVER_UNREACHABLE',
      message: `${cause.message} (retried until ${new Date(T0.getTime() + 60_000).toISOString()})`,
    });
    expect(error.code).toBe('SERVER_UNREACHABLE');
    expect(error.jobId).toBe(stored.jobId);
    expect(error.retryable).toBe(true);
    expect(error.message).toBe(stored.error!.message);
    expect(h.conn.submitCalls).toHaveLength(0);
  });

  it('records a refused submit as failed and keeps the input the error is about', async () => {
    const h = harness();
    h.conn.onSubmit = async () => {
      throw new JobError('TOOL_NOT_FOUND', "Input 'tool': the MCP server has no tool 'research'", { input: 'tool' });
    };
    const error = await rejected(submitJob(h.ctx, request()));
    const stored = h.store.puts.at(-1)!;
    expect(stored.status).toBe('failed');
    expect(stored.error?.code).toBe('TOOL_NOT_FOUND');
    expect(error).toMatchObject({ code: 'TOOL_NOT_FOUND', input: 'tool', jobId: stored.jobId });
    expect(h.conn.closed).toBe(1);
  });

  it('records an unexpected failure as INTERNAL and rethrows it unchanged', async () => {
    const h = harness();
    const bug = new TypeError('cannot read properties of undefined');
    h.conn.onSubmit = async () => {
      throw bug;
    };
    await expect(submitJob(h.ctx, request())).rejects.toBe(bug);
    expect(h.store.puts.at(-1)).toMatchObject({ status: 'failed', error: { code: 'INTERNAL', message: bug.message } });
  });

  it('does not submit when the step is stopped before the call, and records the job canceled by signal', async () => {
    const h = harness();
    accepts(h);
    const interrupt = new AbortController();
    interrupt.abort(new Error('Stopped by SIGINT'));
    const error = await rejected(submitJob(h.ctx, request({ interrupt: interrupt.signal })));

    expect(h.conn.submitCalls).toHaveLength(0);
    const stored = h.store.puts.at(-1)!;
    expect(stored).toMatchObject({ status: 'canceled', cancelReason: 'signal', error: { code: 'INTERRUPTED' } });
    expect(stored.remote).toBeUndefined();
    expect(error.code).toBe('INTERRUPTED');
    expect(error.jobId).toBe(stored.jobId);
  });

  it('records canceled by signal when open() itself is aborted by the interrupt', async () => {
    const h = harness();
    const interrupt = new AbortController();
    h.tasks.onOpen = async () => {
      interrupt.abort(new Error('Stopped by SIGTERM'));
      throw interrupt.signal.reason;
    };
    const error = await rejected(submitJob(h.ctx, request({ interrupt: interrupt.signal })));
    expect(h.tasks.opens[0]?.signal).toBe(interrupt.signal);
    expect(h.store.puts.at(-1)).toMatchObject({ status: 'canceled', cancelReason: 'signal' });
    expect(error.code).toBe('INTERRUPTED');
    expect(h.conn.submitCalls).toHaveLength(0);
  });

  it('when stopped while the call is in flight, lets it finish, records the task, then cancels it', async () => {
    const h = harness();
    const interrupt = new AbortController();
    const reply = deferred<SubmittedTask>();
    const started = deferred<void>();
    h.conn.onSubmit = () => {
      started.resolve();
      return reply.promise;
    };
    const submitting = submitJob(h.ctx, request({ interrupt: interrupt.signal }));
    await started.promise;
    interrupt.abort(new Error('Stopped by SIGINT'));
    reply.resolve({ remote: remoteRef('task-9'), task: { taskId: 'task-9', status: 'working' } });
    const job = await submitting;

    // The task is recorded before it is cancelled, so a killed step still leaves a record pointing at it.
    expect(h.trace).toEqual(['put:queued', 'open', 'put:queued', 'submit', 'put:running', 'cancel', 'put:canceled']);
    expect(h.conn.cancelCalls[0]?.remote).toEqual(remoteRef('task-9'));
    expect(job).toMatchObject({ status: 'canceled', cancelReason: 'signal', remote: remoteRef('task-9') });
    expect(h.store.stored(job)).toEqual(job);
    expect(h.log.warnings.join('\n')).toContain('task-9');
  });

  it('keeps the job running with its task when the cancel after an interrupt fails', async () => {
    const h = harness();
    const interrupt = new AbortController();
    h.conn.onSubmit = async () => {
      interrupt.abort(new Error('Stopped by SIGINT'));
      return { remote: remoteRef('task-9'), task: { taskId: 'task-9', status: 'working' } };
    };
    h.conn.onCancel = async () => {
      throw unreachable();
    };
    const job = await submitJob(h.ctx, request({ interrupt: interrupt.signal }));
    expect(job.status).toBe('running');
    expect(job.remote?.taskId).toBe('task-9');
    expect(h.store.stored(job).status).toBe('running');
    expect(h.log.warnings.some((w) => w.includes('failed'))).toBe(true);
  });

  it('records the status the server holds after an interrupt cancel that it has not finished yet', async () => {
    const h = harness();
    const interrupt = new AbortController();
    h.conn.onSubmit = async () => {
      interrupt.abort(new Error('Stopped by SIGINT'));
      return { remote: remoteRef(), task: { taskId: 'task-1', status: 'working' } };
    };
    h.conn.onCancel = async (remote) => ({ taskId: remote.taskId, status: 'working', statusMessage: 'Stopping' });
    const job = await submitJob(h.ctx, request({ interrupt: interrupt.signal }));
    expect(job).toMatchObject({ status: 'running', statusMessage: 'Stopping' });
    expect(job.cancelReason).toBeUndefined();
  });

  describe('with a job-key', () => {
    // The seeded jobs' call (a job-key names one call: another call with the key is refused, see job-key.test.ts).
    const sameCall = { arguments: { topic: 'tides' }, redact: [] };

    it('adopts an unfinished job with the same key instead of submitting again', async () => {
      const h = harness();
      const existing = h.store.seed(runningJob({ jobKey: 'nightly' }, 'task-existing'));
      const job = await submitJob(h.ctx, request({ jobKey: 'nightly', ...sameCall }));
      expect(job).toEqual(existing);
      expect(h.tasks.opens).toHaveLength(0);
      expect(h.store.puts).toHaveLength(0);
      expect(h.log.infos.join('\n')).toContain('nightly');
    });

    it('submits anew, recording the key, when the job with the key has ended', async () => {
      const h = harness();
      const ended = h.store.seed({ ...endedJob('completed'), jobKey: 'nightly' });
      accepts(h, 'task-new');
      const job = await submitJob(h.ctx, request({ jobKey: 'nightly', ...sameCall }));
      expect(job.jobId).not.toBe(ended.jobId);
      expect(job.jobKey).toBe('nightly');
      expect(job.remote?.taskId).toBe('task-new');
      expect(h.conn.submitCalls).toHaveLength(1);
    });

    it('adopts an ended job with the key when reuse-terminal is set', async () => {
      const h = harness();
      const ended = { ...endedJob('completed'), jobKey: 'nightly' };
      h.store.seed(ended);
      const job = await submitJob(h.ctx, request({ jobKey: 'nightly', reuseTerminal: true, ...sameCall }));
      expect(job).toEqual(ended);
      expect(h.tasks.opens).toHaveLength(0);
    });

    it('does not adopt a job with another key or of another instance', async () => {
      const h = harness();
      h.store.seed(runningJob({ jobKey: 'other' }));
      h.store.seed(runningJob({ jobKey: 'nightly', instance: 'elsewhere' }));
      accepts(h);
      await submitJob(h.ctx, request({ jobKey: 'nightly' }));
      expect(h.conn.submitCalls).toHaveLength(1);
    });
  });
});
