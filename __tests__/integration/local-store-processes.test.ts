/**
 * Steps of one job are separate processes sharing the state-dir: a wait writing status changes and the result, the
 * post step, a cancel, the waits of a fan-in. Several OS processes here change one record at once through the store
 * a step builds and `record()`; no change may be lost and a job that ended stays ended.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { isTerminal } from '../../src/core/status.js';
import { applyChange, createRecord, type JobRecord } from '../../src/core/record.js';
import { LocalJobStore } from '../../src/store/local.js';
import { compileSources, type CompiledSources } from '../helpers/compiled-sources.js';

const WRITER = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'record-writer.mjs');

let compiled: CompiledSources;
let stateDir: string;

beforeAll(async () => {
  compiled = await compileSources();
  stateDir = await mkdtemp(path.join(os.tmpdir(), 'mcp-jobs-store-processes-'));
}, 120_000);

afterAll(async () => {
  await compiled?.remove();
  if (stateDir) await rm(stateDir, { recursive: true, force: true });
});

interface WriterRun {
  code: number | null;
  changed: string[];
  warnings: string[];
  stderr: string;
}

function writer(jobId: string, name: string, changes: number, endAt = -1, endStatus = 'completed'): Promise<WriterRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [WRITER, compiled.dir, stateDir, jobId, name, String(changes), String(endAt), endStatus],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    child.once('error', reject);
    child.once('exit', (code) => {
      const parsed = code === 0 ? (JSON.parse(stdout) as { changed: string[]; warnings: string[] }) : undefined;
      resolve({ code, changed: parsed?.changed ?? [], warnings: parsed?.warnings ?? [], stderr });
    });
  });
}

function runningRecord(): JobRecord {
  const now = new Date();
  const queued = createRecord({
    instance: 'default',
    serverUrl: 'http://mcp.test/mcp',
    tool: 'research',
    arguments: { topic: 'tides' },
    redactedArguments: [],
    now,
  });
  return applyChange(
    queued,
    {
      status: 'running',
      remoteStatus: 'working',
      remote: {
        generation: '2025-11-25',
        taskId: 'task-1',
        protocolVersion: '2025-11-25',
        sessionId: 'session-1',
        serverCapabilities: {},
        endpointId: 'mcp-jobs:http://mcp.test/mcp',
      },
    },
    now,
  ).record;
}

describe('one job record changed by several processes at once', () => {
  it('loses no change, and the first end is the end: a later end by another process is refused', async () => {
    const store = new LocalJobStore(stateDir);
    const job = runningRecord();
    await store.put(job);
    await rm(path.join(stateDir, 'go'), { force: true });

    // Four step processes, 20 changes each: one completes the job at its 9th change, one cancels it at its 13th.
    const runs = [
      writer(job.jobId, 'wait-a', 20, 8, 'completed'),
      writer(job.jobId, 'cancel-b', 20, 12, 'canceled'),
      writer(job.jobId, 'wait-c', 20),
      writer(job.jobId, 'post-d', 20),
    ];
    // Let them all load and read their copy, then start them together.
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    await writeFile(path.join(stateDir, 'go'), '');
    const done = await Promise.all(runs);
    for (const run of done) {
      expect(run.stderr).toBe('');
      expect(run.code).toBe(0);
      expect(run.warnings).toEqual([]);
    }

    const final = (await store.get('default', job.jobId))!;
    const changed = done.flatMap((run) => run.changed);
    // Every change a process was told it wrote is in the record: one revision and one event each.
    expect(final.revision).toBe(job.revision + changed.length);
    const events = final.events.slice(job.events.length);
    const eventNames = events.map((e) => (isTerminal(e.status) ? e.status : e.message!));
    expect([...eventNames].sort()).toEqual([...changed].sort());
    // Each process's own changes are in its order.
    for (const run of done) expect(eventNames.filter((name) => run.changed.includes(name))).toEqual(run.changed);

    // Exactly one end was written, and it is the record's last event: nothing changed the job after it.
    const ends = changed.filter((name) => name === 'completed' || name === 'canceled');
    expect(ends).toHaveLength(1);
    expect(final.status).toBe(ends[0]);
    expect(eventNames.at(-1)).toBe(ends[0]);
    if (final.status === 'completed') expect(final.result).toEqual({ content: [{ type: 'text', text: 'wait-a' }] });
    // At least one process was refused a change after the end (the end came before the last changes).
    expect(changed.length).toBeLessThan(4 * 20);
    // No lock or temporary file is left behind.
    expect(await readdir(store.jobsDir('default'))).toEqual([`${job.jobId}.json`]);
  }, 120_000);
});
