/** The host-neutral read commands over the ports, with plain fakes: list, show, prune and watch. */
import { describe, expect, it } from '@jest/globals';
import { listJobs } from '../../src/core/commands/list.js';
import { pruneJobs } from '../../src/core/commands/prune.js';
import { showJob } from '../../src/core/commands/show.js';
import { watchJob, type JobUpdate } from '../../src/core/commands/watch.js';
import { JobError } from '../../src/core/errors.js';
import { serverName } from '../../src/core/record.js';
import { endedJob, harness, runningJob, T0, unreachable } from './fakes.js';

describe('listJobs', () => {
  it('newest first, filtered by status, at most limit', async () => {
    const h = harness();
    const old = h.store.seed(runningJob({ now: new Date(T0.getTime() - 60_000) }));
    const done = h.store.seed(endedJob('completed'));
    const newest = h.store.seed(runningJob({ now: new Date(T0.getTime() + 60_000) }));
    const ids = async (req: Parameters<typeof listJobs>[1]) => (await listJobs(h.ctx, req)).map((j) => j.jobId);
    expect(await ids({ instance: 'default' })).toEqual([newest.jobId, done.jobId, old.jobId]);
    expect(await ids({ instance: 'default', status: 'running' })).toEqual([newest.jobId, old.jobId]);
    expect(await ids({ instance: 'default', status: 'running', limit: 1 })).toEqual([newest.jobId]);
    expect(await ids({ instance: 'other' })).toEqual([]);
    expect(h.tasks.opens).toHaveLength(0);
  });
});

describe('showJob', () => {
  it('an ended job is its record: the server is not contacted', async () => {
    const h = harness();
    const job = h.store.seed(endedJob('failed'));
    expect(await showJob(h.ctx, { instance: 'default', job: 'latest', headers: {} })).toEqual({
      record: job,
      contacted: false,
    });
    expect(h.tasks.opens).toHaveLength(0);
  });

  it('a running job is looked up once (tasks/get) and the record brought up to date', async () => {
    const h = harness();
    const job = h.store.seed(runningJob());
    h.conn.onSnapshot = async (remote) => ({ taskId: remote.taskId, status: 'working', statusMessage: 'halfway' });
    const shown = await showJob(h.ctx, { instance: 'default', job: job.jobId, headers: { A: 'b' } });
    expect(shown.contacted).toBe(true);
    expect(shown.record).toMatchObject({ status: 'running', statusMessage: 'halfway' });
    expect(h.store.stored(job)).toMatchObject({ statusMessage: 'halfway' });
    expect(h.tasks.opens[0]!.target).toEqual({ url: serverName(job.server), headers: { A: 'b' } });
    expect(h.conn.closed).toBe(1);
  });

  it('a task that ended on the server is shown so, and left for wait to collect with its result', async () => {
    const h = harness();
    const job = h.store.seed(runningJob());
    h.conn.onSnapshot = async (remote) => ({ taskId: remote.taskId, status: 'completed' });
    const shown = await showJob(h.ctx, { instance: 'default', job: job.jobId, headers: {} });
    expect(shown.record).toMatchObject({ status: 'running', remoteStatus: 'completed' });
    expect(h.store.stored(job)).toEqual(job);
  });

  it('an unreachable server or a lost task is no failure: the record as last stored, and why', async () => {
    for (const error of [unreachable(), new JobError('TASK_LOST', 'the server no longer knows task-1')]) {
      const h = harness();
      const job = h.store.seed(runningJob());
      h.conn.onSnapshot = async () => {
        throw error;
      };
      const shown = await showJob(h.ctx, { instance: 'default', job: job.jobId, headers: {} });
      expect(shown).toEqual({ record: job, contacted: true, stale: `${error.code}: ${error.message}` });
      expect(h.log.warnings.join('\n')).toContain(job.jobId);
    }
  });
});

describe('pruneJobs', () => {
  it('removes ended jobs that ended long enough ago, never an unfinished one', async () => {
    const h = harness();
    const ended = h.store.seed(endedJob('completed'));
    const running = h.store.seed(runningJob({ now: new Date(T0.getTime() + 1) }));
    h.clock.advance(60_000);
    expect(await pruneJobs(h.ctx, { instance: 'default', olderThanMs: 3_600_000 })).toEqual([]);
    expect((await pruneJobs(h.ctx, { instance: 'default', dryRun: true })).map((j) => j.jobId)).toEqual([ended.jobId]);
    expect(await h.store.get('default', ended.jobId)).toBeDefined();
    expect((await pruneJobs(h.ctx, { instance: 'default', olderThanMs: 30_000 })).map((j) => j.jobId)).toEqual([
      ended.jobId,
    ]);
    expect(await h.store.get('default', ended.jobId)).toBeUndefined();
    expect(await h.store.get('default', running.jobId)).toBeDefined();
  });
});

describe('watchJob', () => {
  it('the record first, each recorded change, then the end', async () => {
    const h = harness();
    const job = h.store.seed(runningJob());
    h.conn.onWatch = async (remote, options) => {
      await options.onStatus({ taskId: remote.taskId, status: 'working', statusMessage: 'step 1' });
      await options.onStatus({ taskId: remote.taskId, status: 'working', statusMessage: 'step 2' });
      return { status: 'completed', result: { content: [] } };
    };
    const updates: JobUpdate[] = [];
    const result = await watchJob(
      h.ctx,
      { instance: 'default', job: 'latest', headers: {}, cancelOnTimeout: true },
      (u) => updates.push(u),
    );
    expect(result.record.status).toBe('completed');
    expect(updates.map((u) => [u.phase, u.record.status, u.record.statusMessage])).toEqual([
      ['initial', 'running', undefined],
      ['change', 'running', 'step 1'],
      ['change', 'running', 'step 2'],
      // The end came without a message: "step 2" belonged to the status before it.
      ['change', 'completed', undefined],
      ['end', 'completed', undefined],
    ]);
    expect(updates[0]!.record.jobId).toBe(job.jobId);
  });
});
