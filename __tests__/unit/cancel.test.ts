import { describe, expect, it } from '@jest/globals';
import { cancelJob, type CancelRequest } from '../../src/core/commands/cancel.js';
import { changeFromSnapshot, statusLine } from '../../src/core/commands/context.js';
import { JobError } from '../../src/core/errors.js';
import { applyChange } from '../../src/core/record.js';
import { endedJob, harness, queuedJob, rejected, runningJob, SERVER_URL, T0, unreachable } from './fakes.js';

const HEADERS = { Authorization: 'Bearer t' };

function request(job: string, overrides: Partial<CancelRequest> = {}): CancelRequest {
  return { instance: 'default', job, headers: HEADERS, ...overrides };
}

describe('cancelJob', () => {
  it.each(['completed', 'failed', 'canceled'] as const)('leaves a %s job alone and sends nothing', async (status) => {
    const h = harness();
    const job = h.store.seed(endedJob(status));
    const result = await cancelJob(h.ctx, request(job.jobId));
    expect(result).toEqual({ record: job, sent: false });
    expect(h.tasks.opens).toHaveLength(0);
    expect(h.store.puts).toHaveLength(0);
  });

  it('records canceled by user with the reason when the server reports the task cancelled', async () => {
    const h = harness();
    const job = h.store.seed(runningJob());
    const result = await cancelJob(h.ctx, request(job.jobId, { reason: 'superseded by run 8' }));
    expect(result.sent).toBe(true);
    expect(result.record).toMatchObject({
      status: 'canceled',
      remoteStatus: 'cancelled',
      cancelReason: 'user',
      statusMessage: 'Canceled: superseded by run 8',
    });
    expect(result.record.finishedAt).toBeDefined();
    expect(h.store.stored(job)).toEqual(result.record);
    expect(h.tasks.opens[0]?.target).toEqual({ url: SERVER_URL, headers: HEADERS });
    expect(h.tasks.opens[0]?.join).toEqual(job.remote);
    expect(h.conn.cancelCalls[0]?.remote).toEqual(job.remote);
    expect(h.conn.closed).toBe(1);
  });

  it('records the cancel reason it is given (the post step uses signal)', async () => {
    const h = harness();
    const job = h.store.seed(runningJob());
    const result = await cancelJob(h.ctx, request(job.jobId, { cancelReason: 'signal' }));
    expect(result.record).toMatchObject({ status: 'canceled', cancelReason: 'signal' });
  });

  it('keeps the job running, with a warning, when the server still reports it working', async () => {
    const h = harness();
    const job = h.store.seed(runningJob());
    h.conn.onCancel = async (remote) => ({ taskId: remote.taskId, status: 'working', statusMessage: 'Finishing' });
    const result = await cancelJob(h.ctx, request(job.jobId, { reason: 'stop' }));
    expect(result.sent).toBe(true);
    expect(result.record).toMatchObject({ status: 'running', statusMessage: 'Finishing' });
    expect(result.record.cancelReason).toBeUndefined();
    expect(h.store.stored(job).status).toBe('running');
    expect(h.log.warnings.join('\n')).toContain('still reports working');
  });

  it('records the real end, result included, when the task had already finished', async () => {
    const h = harness();
    const job = h.store.seed(runningJob());
    const result = { content: [{ type: 'text', text: 'done anyway' }] };
    h.conn.onCancel = async (remote) => ({ taskId: remote.taskId, status: 'completed' });
    h.conn.onWatch = async () => ({ status: 'completed', result });
    const out = await cancelJob(h.ctx, request(job.jobId));
    expect(out.sent).toBe(true);
    expect(out.record).toMatchObject({ status: 'completed', result });
    expect(out.record.cancelReason).toBeUndefined();
  });

  it('cancels a job that never got a task without contacting the server', async () => {
    const h = harness();
    const job = h.store.seed(queuedJob());
    const result = await cancelJob(h.ctx, request(job.jobId, { reason: 'not needed' }));
    expect(result.sent).toBe(false);
    expect(result.record).toMatchObject({ status: 'canceled', cancelReason: 'user' });
    expect(result.record.statusMessage).toContain('not needed');
    expect(h.tasks.opens).toHaveLength(0);
    expect(h.store.stored(job).status).toBe('canceled');
  });

  it('records that the task is lost, keeps the job running and rethrows', async () => {
    const h = harness();
    const job = h.store.seed(runningJob());
    const lost = new JobError('TASK_LOST', 'The server no longer has task task-1');
    h.conn.onCancel = async () => {
      throw lost;
    };
    await expect(cancelJob(h.ctx, request(job.jobId))).rejects.toBe(lost);
    expect(h.store.stored(job)).toMatchObject({ status: 'running', error: { code: 'TASK_LOST' } });
    expect(h.conn.closed).toBe(1);
  });

  it('rethrows other failures and leaves the record as it was', async () => {
    const h = harness();
    const job = h.store.seed(runningJob());
    const down = unreachable();
    h.conn.onCancel = async () => {
      throw down;
    };
    await expect(cancelJob(h.ctx, request(job.jobId))).rejects.toBe(down);
    expect(h.store.puts).toHaveLength(0);
    expect(h.conn.closed).toBe(1);
  });

  it('cancels the newest job for latest', async () => {
    const h = harness();
    h.store.seed(runningJob({ now: T0 }, 'task-old'));
    const newer = h.store.seed(runningJob({ now: new Date(T0.getTime() + 60_000) }, 'task-new'));
    const result = await cancelJob(h.ctx, request('latest'));
    expect(result.record.jobId).toBe(newer.jobId);
    expect(h.conn.cancelCalls[0]?.remote.taskId).toBe('task-new');
  });

  it('refuses an unknown job, naming the job-id input', async () => {
    const h = harness();
    const error = await rejected(cancelJob(h.ctx, request('job_doesnotexist')));
    expect(error.code).toBe('JOB_NOT_FOUND');
    expect(error.input).toBe('job-id');
  });
});

describe('command context helpers', () => {
  it('turns a snapshot into a change, with only the fields the server sent', () => {
    expect(changeFromSnapshot({ taskId: 't', status: 'input_required' })).toEqual({
      status: 'input_required',
      remoteStatus: 'input_required',
    });
    expect(
      changeFromSnapshot({ taskId: 't', status: 'working', statusMessage: 'm', ttlMs: null, pollIntervalMs: 0 }),
    ).toEqual({ status: 'running', remoteStatus: 'working', statusMessage: 'm', ttlMs: null, pollIntervalMs: 0 });
  });

  it('writes one status line, naming the server status only when it differs', () => {
    const job = runningJob();
    expect(statusLine(job)).toBe(`${job.jobId}: running`);
    const withMessage = applyChange(job, { status: 'running', statusMessage: 'Gathering' }, T0).record;
    expect(statusLine(withMessage)).toBe(`${job.jobId}: running: Gathering`);
    const stopping = { ...withMessage, remoteStatus: 'cancelled' as const };
    expect(statusLine(stopping)).toBe(`${job.jobId}: running (server: cancelled): Gathering`);
  });
});
