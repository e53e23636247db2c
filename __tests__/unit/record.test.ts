import { describe, expect, it } from '@jest/globals';
import {
  applyChange,
  createRecord,
  durationSeconds,
  MAX_EVENTS,
  mergeRecords,
  newJobId,
  parseRecord,
  SCHEMA_VERSION,
  type JobRecord,
} from '../../src/core/record.js';
import {
  canTransition,
  isTerminal,
  JOB_STATUSES,
  localStatus,
  REMOTE_STATUSES,
  type JobStatus,
} from '../../src/core/status.js';
import { JobError } from '../../src/core/errors.js';
import { endedJob, queuedJob, remoteRef, runningJob, T0, thrown } from './fakes.js';

const TERMINAL: JobStatus[] = ['completed', 'failed', 'canceled'];
const at = (seconds: number): Date => new Date(T0.getTime() + seconds * 1_000);

/** The status machine as the design states it: nothing leaves a terminal status, nothing goes back to queued. */
function expectedAllowed(from: JobStatus, to: JobStatus): boolean {
  if (TERMINAL.includes(from)) return false;
  if (from === to) return true;
  return to !== 'queued';
}

/** A record in any status, reached through allowed changes. */
function recordIn(status: JobStatus): JobRecord {
  const queued = queuedJob();
  if (status === 'queued') return queued;
  const running = runningJob();
  if (status === 'running') return running;
  if (status === 'input_required')
    return applyChange(running, { status, remoteStatus: 'input_required' }, at(2)).record;
  return endedJob(status as 'completed' | 'failed' | 'canceled');
}

const PAIRS = JOB_STATUSES.flatMap((from) => JOB_STATUSES.map((to) => [from, to] as [JobStatus, JobStatus]));

describe('status machine', () => {
  it('knows the terminal statuses', () => {
    expect(JOB_STATUSES.filter(isTerminal).sort()).toEqual([...TERMINAL].sort());
  });

  it.each(PAIRS)('%s -> %s follows the design', (from, to) => {
    expect(canTransition(from, to)).toBe(expectedAllowed(from, to));
  });

  it('maps every remote status to the local one', () => {
    expect(Object.fromEntries(REMOTE_STATUSES.map((s) => [s, localStatus(s)]))).toEqual({
      working: 'running',
      input_required: 'input_required',
      completed: 'completed',
      failed: 'failed',
      cancelled: 'canceled',
    });
  });
});

describe('applyChange', () => {
  it.each(PAIRS.filter(([from]) => !TERMINAL.includes(from)))(
    'on a %s record, %s is applied or refused',
    (from, to) => {
      const record = recordIn(from);
      expect(record.status).toBe(from);
      if (expectedAllowed(from, to)) {
        const applied = applyChange(record, { status: to, statusMessage: `now ${to}` }, at(10));
        expect(applied.changed).toBe(true);
        expect(applied.record.status).toBe(to);
        expect(applied.record.updatedAt).toBe(at(10).toISOString());
      } else {
        const error = thrown(() => applyChange(record, { status: to }, at(10)));
        expect(error.code).toBe('INTERNAL');
        expect(error.jobId).toBe(record.jobId);
        expect(error.message).toContain(`from ${from} to ${to}`);
      }
    },
  );

  it.each(PAIRS.filter(([from]) => TERMINAL.includes(from)))('a %s record absorbs a change to %s', (from, to) => {
    const record = recordIn(from);
    const before = structuredClone(record);
    const applied = applyChange(
      record,
      { status: to, statusMessage: 'late', result: { late: true }, error: { code: 'X', message: 'late' } },
      at(60),
    );
    expect(applied.changed).toBe(false);
    expect(applied.record).toBe(record);
    expect(record).toEqual(before);
  });

  it('sets startedAt when the job leaves queued, and keeps it', () => {
    const queued = queuedJob();
    expect(queued.startedAt).toBeUndefined();
    const running = applyChange(queued, { status: 'running', remoteStatus: 'working', remote: remoteRef() }, at(1));
    expect(running.record.startedAt).toBe(at(1).toISOString());
    const later = applyChange(running.record, { status: 'input_required', remoteStatus: 'input_required' }, at(5));
    expect(later.record.startedAt).toBe(at(1).toISOString());
    expect(later.record.finishedAt).toBeUndefined();
  });

  it('sets finishedAt on a terminal status', () => {
    const done = applyChange(runningJob(), { status: 'completed', result: { content: [] } }, at(30));
    expect(done.record.finishedAt).toBe(at(30).toISOString());
    expect(done.record.result).toEqual({ content: [] });
  });

  it('changes nothing for the same status with the same message', () => {
    const record = applyChange(runningJob(), { status: 'running', statusMessage: 'Gathering' }, at(2)).record;
    const again = applyChange(
      record,
      { status: 'running', remoteStatus: 'working', statusMessage: 'Gathering' },
      at(3),
    );
    expect(again.changed).toBe(false);
    expect(again.record).toBe(record);
    const noMessage = applyChange(record, { status: 'running' }, at(4));
    expect(noMessage.changed).toBe(false);
  });

  it('records a new message in the same status as an event', () => {
    const record = runningJob();
    const applied = applyChange(record, { status: 'running', remoteStatus: 'working', statusMessage: 'Step 2' }, at(2));
    expect(applied.changed).toBe(true);
    expect(applied.record.statusMessage).toBe('Step 2');
    expect(applied.record.events).toHaveLength(record.events.length + 1);
    expect(applied.record.events.at(-1)).toEqual({
      at: at(2).toISOString(),
      status: 'running',
      remoteStatus: 'working',
      message: 'Step 2',
    });
  });

  it('uses the error message as the event message when there is no status message', () => {
    const applied = applyChange(
      runningJob(),
      { status: 'failed', error: { code: 'TASK_LOST', message: 'session gone' } },
      at(2),
    );
    expect(applied.record.events.at(-1)?.message).toBe('session gone');
    expect(applied.record.error).toEqual({ code: 'TASK_LOST', message: 'session gone' });
  });

  it('never changes the record it is given', () => {
    const record = runningJob();
    const before = structuredClone(record);
    applyChange(record, { status: 'completed', statusMessage: 'done', result: { x: 1 } }, at(9));
    expect(record).toEqual(before);
  });

  it(`keeps only the last ${MAX_EVENTS} events`, () => {
    let record = runningJob();
    const changes = MAX_EVENTS + 50;
    for (let i = 0; i < changes; i++) {
      record = applyChange(record, { status: 'running', statusMessage: `step ${i}` }, at(i + 2)).record;
    }
    expect(record.events).toHaveLength(MAX_EVENTS);
    expect(record.events.at(-1)?.message).toBe(`step ${changes - 1}`);
    expect(record.events[0]?.message).toBe(`step ${changes - MAX_EVENTS}`);
    const ended = applyChange(record, { status: 'completed' }, at(changes + 10)).record;
    expect(ended.events).toHaveLength(MAX_EVENTS);
    expect(ended.events.at(-1)?.status).toBe('completed');
  });
});

describe('createRecord', () => {
  it('starts queued with one event and only the given fields', () => {
    const record = createRecord({
      instance: 'team-a',
      serverUrl: 'https://mcp.example.com/mcp',
      tool: 'research',
      arguments: { token: '***' },
      redactedArguments: ['token'],
      deadline: at(3600).toISOString(),
      requestedTtlMs: 60_000,
      github: { runId: '42' },
      now: T0,
    });
    expect(record).toMatchObject({
      schemaVersion: SCHEMA_VERSION,
      instance: 'team-a',
      server: { transport: 'streamable-http', url: 'https://mcp.example.com/mcp' },
      status: 'queued',
      createdAt: T0.toISOString(),
      updatedAt: T0.toISOString(),
      deadline: at(3600).toISOString(),
      requestedTtlMs: 60_000,
      github: { runId: '42' },
      events: [{ at: T0.toISOString(), status: 'queued' }],
    });
    expect(record.jobId).toMatch(/^job_/);
    expect('deadline' in queuedJob()).toBe(false);
  });
});

describe('newJobId', () => {
  it('is job_ and 20 base32 characters, safe in file names and cache keys', () => {
    for (let i = 0; i < 50; i++) expect(newJobId()).toMatch(/^job_[a-z2-7]{20}$/);
  });

  it('is unique', () => {
    const ids = new Set(Array.from({ length: 2_000 }, () => newJobId()));
    expect(ids.size).toBe(2_000);
  });
});

describe('parseRecord', () => {
  const SOURCE = '/state/instances/default/jobs/job_x.json';

  it('round-trips every kind of record', () => {
    for (const record of [queuedJob(), runningJob(), endedJob('completed'), endedJob('failed'), endedJob('canceled')]) {
      expect(parseRecord(JSON.stringify(record), SOURCE)).toEqual(record);
    }
  });

  it('refuses text that is not JSON, naming the source', () => {
    const error = thrown(() => parseRecord('{"schemaVersion": 1, ', SOURCE));
    expect(error.code).toBe('RECORD_INVALID');
    expect(error.path).toBe(SOURCE);
    expect(error.message).toContain(SOURCE);
    expect(error.message).toContain('not valid JSON');
  });

  it.each([
    ['status', (r: Record<string, unknown>) => (r.status = 'bogus')],
    ['tool', (r: Record<string, unknown>) => delete r.tool],
    ['jobId', (r: Record<string, unknown>) => (r.jobId = '../etc/passwd')],
    ['createdAt', (r: Record<string, unknown>) => (r.createdAt = 'yesterday')],
    ['remote.taskId', (r: Record<string, unknown>) => ((r.remote as Record<string, unknown>).taskId = '')],
    ['events', (r: Record<string, unknown>) => (r.events = 'none')],
    ['schemaVersion', (r: Record<string, unknown>) => (r.schemaVersion = 0)],
  ])('names the damaged field %s', (field, damage) => {
    const data = structuredClone(runningJob()) as unknown as Record<string, unknown>;
    damage(data);
    const error = thrown(() => parseRecord(JSON.stringify(data), SOURCE));
    expect(error.code).toBe('RECORD_INVALID');
    expect(error.path).toBe(SOURCE);
    expect(error.message).toContain(SOURCE);
    expect(error.message).toContain(`${field}:`);
  });

  it.each(['null', '[]', '42'])('refuses the non-object %s', (text) => {
    expect(thrown(() => parseRecord(text, SOURCE)).code).toBe('RECORD_INVALID');
  });

  it('refuses a record from a newer mcp-jobs, saying so', () => {
    const data = { ...runningJob(), schemaVersion: SCHEMA_VERSION + 1, somethingNew: true };
    const error = thrown(() => parseRecord(JSON.stringify(data), SOURCE));
    expect(error).toBeInstanceOf(JobError);
    expect(error.code).toBe('RECORD_INVALID');
    expect(error.message).toContain(SOURCE);
    expect(error.message).toContain(`schema version ${SCHEMA_VERSION + 1}`);
    expect(error.message).toContain('newer');
  });
});

describe('durationSeconds', () => {
  it('counts from creation to the end, or to now while unfinished', () => {
    expect(durationSeconds(endedJob('completed'), at(1000))).toBe(5);
    expect(durationSeconds(runningJob(), at(12.5))).toBe(12.5);
    expect(durationSeconds(runningJob(), at(-10))).toBe(0);
  });
});

describe('revision', () => {
  it('starts at 1 and counts every recorded change, but not a refused one', () => {
    const queued = queuedJob();
    expect(queued.revision).toBe(1);
    const running = applyChange(queued, { status: 'running', remote: remoteRef() }, at(1)).record;
    expect(running.revision).toBe(2);
    const again = applyChange(running, { status: 'running' }, at(2));
    expect(again.changed).toBe(false);
    expect(again.record.revision).toBe(2);
    const done = applyChange(running, { status: 'completed' }, at(3)).record;
    expect(done.revision).toBe(3);
    expect(applyChange(done, { status: 'failed' }, at(4)).record.revision).toBe(3);
  });
});

describe('mergeRecords', () => {
  const running = runningJob();
  const step = (record: JobRecord, seconds: number, message: string): JobRecord =>
    applyChange(record, { status: 'running', statusMessage: message }, at(seconds)).record;

  it('keeps an ended version over an unfinished one, whichever is newer', () => {
    const ended = applyChange(running, { status: 'canceled', cancelReason: 'user' }, at(5)).record;
    const laterProgress = step(step(step(running, 6, 'a'), 7, 'b'), 8, 'c');
    for (const merged of [mergeRecords(ended, laterProgress), mergeRecords(laterProgress, ended)]) {
      expect(merged.status).toBe('canceled');
      expect(merged.cancelReason).toBe('user');
      expect(merged.revision).toBe(Math.max(ended.revision, laterProgress.revision) + 1);
    }
  });

  it('keeps the version that ended first when both ended', () => {
    const first = applyChange(running, { status: 'completed', result: { content: [] } }, at(5)).record;
    const second = applyChange(running, { status: 'canceled', cancelReason: 'timeout' }, at(9)).record;
    expect(mergeRecords(first, second).status).toBe('completed');
    expect(mergeRecords(second, first).status).toBe('completed');
    expect(mergeRecords(second, first).result).toEqual({ content: [] });
  });

  it('keeps the more recently updated of two unfinished versions', () => {
    const older = step(running, 5, 'older');
    const newer = step(running, 9, 'newer');
    expect(mergeRecords(older, newer).statusMessage).toBe('newer');
    expect(mergeRecords(newer, older).statusMessage).toBe('newer');
  });

  it('breaks a tie in update time by revision', () => {
    const low = step(running, 5, 'low');
    const high = { ...step(running, 5, 'high'), revision: low.revision + 3 };
    expect(mergeRecords(low, high).statusMessage).toBe('high');
    expect(mergeRecords(high, low).statusMessage).toBe('high');
    expect(mergeRecords(low, high).revision).toBe(high.revision + 1);
  });

  it('changes neither input', () => {
    const a = step(running, 5, 'a');
    const b = step(running, 6, 'b');
    const [beforeA, beforeB] = [structuredClone(a), structuredClone(b)];
    mergeRecords(a, b);
    expect([a, b]).toEqual([beforeA, beforeB]);
  });
});

describe('status messages and progress', () => {
  it('a new status without a message of its own does not keep the message of the one before', () => {
    const working = applyChange(runningJob(), { status: 'running', statusMessage: 'Verifying...' }, at(2)).record;
    const done = applyChange(working, { status: 'completed', remoteStatus: 'completed' }, at(3)).record;
    expect(done.statusMessage).toBeUndefined();
    expect(done.events.at(-1)).toEqual({ at: at(3).toISOString(), status: 'completed', remoteStatus: 'completed' });
  });

  it('keeps the message when the status stays the same (an error recorded beside it)', () => {
    const working = applyChange(runningJob(), { status: 'running', statusMessage: 'Verifying...' }, at(2)).record;
    const lost = applyChange(working, { status: 'running', error: { code: 'TASK_LOST', message: 'gone' } }, at(3));
    expect(lost.record.statusMessage).toBe('Verifying...');
  });

  it('records the latest progress without a status event', () => {
    const job = runningJob();
    const progress = { progress: 40, total: 100, message: 'Uploading', at: at(2).toISOString() };
    const applied = applyChange(job, { status: 'running', progress }, at(2));
    expect(applied.changed).toBe(true);
    expect(applied.record.progress).toEqual(progress);
    expect(applied.record.events).toEqual(job.events);
    expect(parseRecord(JSON.stringify(applied.record), 'job.json').progress).toEqual(progress);
  });
});

describe('durationSeconds from the server', () => {
  it("takes the server's own times of a finished task when it gave both, the record's otherwise", () => {
    const running = runningJob();
    const timed = applyChange(
      running,
      {
        status: 'completed',
        remoteStatus: 'completed',
        serverTimes: { createdAt: '2026-01-01T00:00:00.000Z', lastUpdatedAt: '2026-01-01T00:00:42.500Z' },
      },
      at(100),
    ).record;
    expect(durationSeconds(timed, at(200))).toBe(42.5);
    const untimed = applyChange(running, { status: 'completed', remoteStatus: 'completed' }, at(100)).record;
    expect(durationSeconds(untimed, at(200))).toBe(100);
  });
});
