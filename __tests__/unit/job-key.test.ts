import { describe, expect, it } from '@jest/globals';
import { JOB_KEY_WAIT_MS } from '../../src/core/commands/job-key.js';
import { submitJob, type SubmitRequest } from '../../src/core/commands/submit.js';
import { applyChange, createRecord, type JobRecord } from '../../src/core/record.js';
import {
  endedJob,
  harness,
  queuedJob,
  rejected,
  remoteRef,
  runningJob,
  sessionRef,
  SERVER_URL,
  T0,
  type Harness,
} from './fakes.js';

/** The call the seeded jobs made (see `queuedJob`). */
function request(overrides: Partial<SubmitRequest> = {}): SubmitRequest {
  return {
    instance: 'default',
    server: { url: SERVER_URL, headers: {} },
    tool: 'research',
    arguments: { topic: 'tides' },
    redact: [],
    jobKey: 'nightly',
    ...overrides,
  };
}

/** Every submit the server gets creates a new task: task-1, task-2, ... */
function serverCreatesTasks(h: Harness): void {
  h.conn.onSubmit = async () => {
    const taskId = `task-${h.conn.submitCalls.length}`;
    return { remote: remoteRef(taskId), task: { taskId, status: 'working' } };
  };
}

/** Seeds a job as the winner of a turn of its key. */
async function claimed(h: Harness, job: JobRecord, seq = 1): Promise<JobRecord> {
  h.store.seed(job);
  await h.store.claimKey(job.instance, job.jobKey!, seq, job.jobId);
  return job;
}

describe('job-key: one call per key', () => {
  it.each([
    ['the tool', { tool: 'summarise' }, /tool 'summarise' on http:\/\/mcp\.test\/mcp: they differ in the tool\./],
    [
      'the server',
      { server: { url: 'http://other.test/mcp', headers: {} } },
      /tool 'research' on http:\/\/other\.test\/mcp: they differ in the server\./,
    ],
    ['the arguments', { arguments: { topic: 'waves' } }, /they differ in the arguments \(first at 'topic'\)\./],
    [
      'the tool and the arguments',
      { tool: 'summarise', arguments: { topic: 'tides', depth: 2 } },
      /they differ in the tool and the arguments \(first at 'depth'\)\./,
    ],
  ])('refuses a key that names a job of another call: %s', async (_what, overrides, differs) => {
    const h = harness();
    serverCreatesTasks(h);
    const existing = await claimed(h, runningJob({ jobKey: 'nightly' }));
    const error = await rejected(submitJob(h.ctx, request(overrides)));
    expect(error.code).toBe('INVALID_INPUT');
    expect(error.input).toBe('job-key');
    expect(error.message).toMatch(/^Input 'job-key': 'nightly' already names job /);
    // Both calls are named: the job's tool and server, and this submit's.
    expect(error.message).toContain(`${existing.jobId}, a call of tool 'research' on ${SERVER_URL}`);
    expect(error.message).toMatch(differs);
    expect(error.message).toMatch(/redacted argument values are not stored/);
    expect(h.tasks.opens).toHaveLength(0);
    expect(h.store.puts).toHaveLength(0);
  });

  it('refuses another call even when the job with the key has ended', async () => {
    const h = harness();
    await claimed(h, { ...endedJob('completed'), jobKey: 'nightly' });
    expect((await rejected(submitJob(h.ctx, request({ arguments: { topic: 'waves' } })))).code).toBe('INVALID_INPUT');
  });

  it('names the first nested argument that differs, and never a value', async () => {
    const h = harness();
    const args = { topic: 'tides', auth: { user: 'ann', password: '***' }, tags: ['a', 'b'] };
    await claimed(h, runningJob({ jobKey: 'nightly', arguments: args, redactedArguments: ['auth.password'] }));
    const error = await rejected(
      submitJob(
        h.ctx,
        request({
          arguments: { topic: 'tides', auth: { user: 'bob', password: 'pw-SECRET' }, tags: ['a', 'b'] },
          redact: ['auth.password'],
        }),
      ),
    );
    expect(error.message).toContain("first at 'auth.user'");
    expect(error.message).not.toContain('bob');
    expect(error.message).not.toContain('SECRET');
    const tags = await rejected(
      submitJob(
        h.ctx,
        request({
          arguments: { topic: 'tides', auth: { user: 'ann', password: 'x' }, tags: ['a', 'c'] },
          redact: ['auth.password'],
        }),
      ),
    );
    expect(tags.message).toContain("first at 'tags[1]'");
  });

  it('cannot tell calls apart that differ only in a redacted value: they are one call', async () => {
    const h = harness();
    const existing = await claimed(
      h,
      runningJob({ jobKey: 'nightly', arguments: { topic: 'tides', token: '***' }, redactedArguments: ['token'] }),
    );
    const job = await submitJob(
      h.ctx,
      request({ arguments: { topic: 'tides', token: 'other-secret' }, redact: ['token'] }),
    );
    expect(job.jobId).toBe(existing.jobId);
  });

  it('takes a server URL that differs only in spelling for the same server', async () => {
    const h = harness();
    const existing = await claimed(h, runningJob({ jobKey: 'nightly' }));
    const job = await submitJob(h.ctx, request({ server: { url: 'HTTP://MCP.test:80/mcp', headers: {} } }));
    expect(job.jobId).toBe(existing.jobId);
  });
});

describe('job-key: turns', () => {
  it('five submits at once with one key: one task, one job for all', async () => {
    const h = harness();
    serverCreatesTasks(h);
    const jobs = await Promise.all([0, 1, 2, 3, 4].map(() => submitJob(h.ctx, request())));
    expect(h.conn.submitCalls).toHaveLength(1);
    expect(new Set(jobs.map((job) => job.jobId)).size).toBe(1);
    expect(jobs[0]).toMatchObject({ jobKey: 'nightly', remote: { taskId: 'task-1' } });
    expect(await h.store.lastClaim('default', 'nightly')).toEqual({ seq: 1, jobId: jobs[0]!.jobId });
  });

  it('claims the next turn when the job of the last one ended, and records the new job under the claimed ID', async () => {
    const h = harness();
    serverCreatesTasks(h);
    const ended = await claimed(h, { ...endedJob('failed'), jobKey: 'nightly' });
    const job = await submitJob(h.ctx, request());
    expect(job.jobId).not.toBe(ended.jobId);
    expect(await h.store.lastClaim('default', 'nightly')).toEqual({ seq: 2, jobId: job.jobId });
    expect(h.store.puts[0]).toMatchObject({ jobId: job.jobId, status: 'queued', jobKey: 'nightly' });
    expect(h.log.infos.join('\n')).toMatch(new RegExp(`${ended.jobId}, which ended failed: submitting anew`));
  });

  it('waits for the winner of the turn to get its task, then adopts it', async () => {
    const h = harness();
    const winner = await claimed(h, queuedJob({ jobKey: 'nightly' }));
    // The winner's submit gets its task while this one waits.
    const sleep = h.clock.sleep.bind(h.clock);
    h.clock.sleep = async (ms, signal) => {
      await sleep(ms, signal);
      if (h.clock.sleeps.length === 3) {
        h.store.seed(
          applyChange(
            winner,
            { status: 'running', remoteStatus: 'working', remote: remoteRef('task-w') },
            h.clock.now(),
          ).record,
        );
      }
    };
    const job = await submitJob(h.ctx, request());
    expect(job).toMatchObject({ jobId: winner.jobId, status: 'running', remote: { taskId: 'task-w' } });
    expect(h.tasks.opens).toHaveLength(0);
    expect(h.clock.sleeps).toHaveLength(3);
  });

  it('adopts the winner of a turn it lost even when that job has ended already (its submit was this one too)', async () => {
    const h = harness();
    const winner = { ...endedJob('completed'), jobKey: 'nightly' };
    h.store.seed(winner);
    // Another submit claims turn 1 between this one's look-up and its claim.
    const claim = h.store.claimKey.bind(h.store);
    h.store.claimKey = async (instance, key, seq, jobId) => {
      if (seq === 1) await claim(instance, key, seq, winner.jobId);
      return claim(instance, key, seq, jobId);
    };
    const job = await submitJob(h.ctx, request());
    expect(job).toEqual(winner);
    expect(h.tasks.opens).toHaveLength(0);
  });

  it(`takes a turn whose job never got a task within ${JOB_KEY_WAIT_MS / 1000} s for dead and claims the next`, async () => {
    const h = harness();
    serverCreatesTasks(h);
    const stuck = await claimed(h, createRecord({ ...queuedArgs(), jobKey: 'nightly', now: T0 }));
    const job = await submitJob(h.ctx, request());
    expect(job.jobId).not.toBe(stuck.jobId);
    expect(h.conn.submitCalls).toHaveLength(1);
    expect(h.clock.now().getTime() - T0.getTime()).toBeGreaterThanOrEqual(JOB_KEY_WAIT_MS);
    expect(h.log.warnings.join('\n')).toMatch(new RegExp(`${stuck.jobId}, which still has no task after 30 s`));
    expect(await h.store.lastClaim('default', 'nightly')).toEqual({ seq: 2, jobId: job.jobId });
  });

  it('adopts a turn whose submit sent the call but never learned its task, rather than calling again', async () => {
    const h = harness();
    serverCreatesTasks(h);
    const queued = createRecord({ ...queuedArgs(), jobKey: 'nightly', now: T0 });
    const sent = applyChange(queued, { status: 'queued', callSession: sessionRef() }, T0).record;
    const stuck = await claimed(h, sent);
    const job = await submitJob(h.ctx, request());
    expect(job.jobId).toBe(stuck.jobId);
    expect(h.conn.submitCalls).toHaveLength(0);
    expect(h.log.warnings.join('\n')).toMatch(/sent the call but never learned its task: adopting it/);
  });

  it('moves past a turn whose claim cannot be read, and one whose job was never recorded', async () => {
    const h = harness();
    serverCreatesTasks(h);
    h.store.claims.set('default/nightly', [undefined, 'job_neverrecorded12345']);
    const job = await submitJob(h.ctx, request());
    expect(h.conn.submitCalls).toHaveLength(1);
    expect(await h.store.lastClaim('default', 'nightly')).toEqual({ seq: 3, jobId: job.jobId });
    expect(h.log.warnings.join('\n')).toMatch(/job_neverrecorded12345, which was never recorded/);
  });

  it('stops waiting with INTERRUPTED when the step is stopped', async () => {
    const h = harness();
    await claimed(h, queuedJob({ jobKey: 'nightly' }));
    const interrupt = new AbortController();
    h.clock.hang = true;
    const submit = submitJob(h.ctx, request({ interrupt: interrupt.signal }));
    await new Promise((resolve) => setTimeout(resolve, 10));
    interrupt.abort(new Error('SIGTERM'));
    const error = await rejected(submit);
    expect(error.code).toBe('INTERRUPTED');
    expect(error.message).toContain("job-key 'nightly'");
    expect(h.tasks.opens).toHaveLength(0);
  });

  it('finds a job recorded with the key but without a claim (an earlier mcp-jobs version)', async () => {
    const h = harness();
    const existing = h.store.seed(runningJob({ jobKey: 'nightly' }));
    const job = await submitJob(h.ctx, request());
    expect(job.jobId).toBe(existing.jobId);
  });
});

function queuedArgs() {
  return {
    instance: 'default',
    serverUrl: SERVER_URL,
    tool: 'research',
    arguments: { topic: 'tides' },
    redactedArguments: [],
  };
}
