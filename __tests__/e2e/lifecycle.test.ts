/**
 * End to end against the real server-everything: the built entries run as separate processes with runner env files,
 * submit in one process and wait in another, sharing only RUNNER_TEMP (as two steps of one job do).
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import fs from 'node:fs';
import { allFiles, readRecord, stateDirOf } from '../helpers/jobs.js';
import { describeRun, makeRunnerTemp, runEntry } from '../helpers/runner.js';
import { startEverythingServer, type RunningServer } from '../helpers/servers.js';

const SECRET = 'sk-e2e-3f9a1c77d2b04e5e';
let server: RunningServer;

beforeAll(async () => {
  server = await startEverythingServer();
});
afterAll(async () => {
  await server?.stop();
});

describe('submit then wait, in separate processes', () => {
  const runnerTemp = makeRunnerTemp();
  let jobId = '';

  it('submit returns the job and task IDs at once and records the job without secrets', async () => {
    const submit = await runEntry('submit', {
      runnerTemp,
      inputs: {
        server: server.url,
        tool: 'simulate-research-query',
        arguments: JSON.stringify({ topic: 'ci pipelines', apiKey: SECRET }),
        redact: 'apiKey',
        headers: `Authorization: Bearer ${SECRET}\nX-Trace: e2e`,
        'timeout-minutes': '10',
      },
    });
    expect(submit.code).toBe(0);
    jobId = submit.outputs['job-id'] ?? '';
    expect(jobId).toMatch(/^job_[a-z2-7]{20}$/);
    expect(submit.outputs['task-id']).toMatch(/\S+/);
    expect(submit.outputs.status).toBe('running');
    // The task takes ~4 s on the server: submit must not wait for it.
    const record = readRecord(runnerTemp, jobId);
    expect(record.status).toBe('running');
    expect(record.remote.taskId).toBe(submit.outputs['task-id']);
    expect(record.remote.sessionId).toMatch(/\S+/);
    expect(record.arguments).toEqual({ topic: 'ci pipelines', apiKey: '***' });
    expect(record.deadline).toBeDefined();
    expect(record.github.runId).toBe('4242424242');
    // The secret was masked for the runner and reached no output, summary or stored byte.
    expect(submit.commands.filter((c) => c.command === 'add-mask').map((c) => c.message)).toContain(`Bearer ${SECRET}`);
    const visible = submit.stdout.split('\n').filter((l) => !l.startsWith('::add-mask::'));
    expect(visible.join('\n')).not.toContain(SECRET);
    expect(JSON.stringify(submit.outputs) + submit.summary).not.toContain(SECRET);
    for (const { file, text } of allFiles(stateDirOf(runnerTemp)))
      expect({ file, leaked: text.includes(SECRET) }).toEqual({ file, leaked: false });
    expect(submit.summary).toContain(jobId);
  });

  it('wait in another process follows the status changes and outputs the result', async () => {
    const seenAtSubmit = readRecord(runnerTemp, jobId).events.length;
    const wait = await runEntry('wait', {
      runnerTemp,
      inputs: { 'job-id': jobId, headers: `Authorization: Bearer ${SECRET}` },
    });
    expect({ code: wait.code, run: wait.code === 0 ? '' : describeRun(wait) }).toEqual({ code: 0, run: '' });
    expect(wait.outputs.status).toBe('completed');
    expect(wait.outputs['job-id']).toBe(jobId);
    expect(wait.outputs.text).toContain('Research Report: ci pipelines');
    expect(wait.outputs['is-error']).toBe('false');
    const result = JSON.parse(wait.outputs.result ?? '');
    expect(result.content[0].type).toBe('text');
    const file = wait.outputs['result-file'] ?? '';
    expect(JSON.parse(fs.readFileSync(file, 'utf8'))).toEqual(result);
    expect(Number(wait.outputs['duration-seconds'])).toBeGreaterThan(1);
    // Every status change recorded during the wait was logged, with its message, inside a group. (Which stages the
    // wait still sees depends on how soon it starts: the research task takes about 4 s.)
    expect(wait.stdout).toMatch(/::group::Waiting for job_/);
    const during = readRecord(runnerTemp, jobId).events.slice(seenAtSubmit);
    expect(during.at(-1)).toMatchObject({ status: 'completed' });
    for (const event of during) {
      expect(wait.stdout).toContain(`${jobId}: ${event.status}${event.message ? `: ${event.message}` : ''}`);
    }
    expect(wait.summary).toMatch(new RegExp(`\\| \`${jobId}\` \\| simulate-research-query \\| completed \\|`));
    const record = readRecord(runnerTemp, jobId);
    expect(record.status).toBe('completed');
    expect(record.events.map((e: { status: string }) => e.status)).toEqual(
      expect.arrayContaining(['queued', 'running', 'completed']),
    );
    expect(wait.state['main-done']).toBe('true');
  });

  it('a finished job is answered from the record without the server', async () => {
    const before = fs.readFileSync(`${stateDirOf(runnerTemp)}/instances/default/jobs/${jobId}.json`, 'utf8');
    // With the server down, any attempt to contact it would fail the step.
    await server.stop();
    const wait = await runEntry('wait', { runnerTemp, inputs: { 'job-id': 'latest' } }).finally(() => server.restart());
    expect(wait.code).toBe(0);
    expect(wait.stdout).toContain('answered from the job record');
    expect(wait.outputs.status).toBe('completed');
    expect(wait.outputs.text).toContain('Research Report');
    expect(fs.readFileSync(`${stateDirOf(runnerTemp)}/instances/default/jobs/${jobId}.json`, 'utf8')).toBe(before);
  });
});

describe('the root action', () => {
  it('submits and waits in one step', async () => {
    const run = await runEntry('call', {
      inputs: { server: server.url, tool: 'simulate-research-query', arguments: '{"topic":"one step"}' },
    });
    expect({ code: run.code, run: run.code === 0 ? '' : describeRun(run) }).toEqual({ code: 0, run: '' });
    expect(run.outputs['job-id']).toMatch(/^job_/);
    expect(run.outputs.status).toBe('completed');
    expect(run.outputs.text).toContain('Research Report: one step');
    // Main finished on its own: the post step must find nothing to do.
    const post = await runEntry('post', { inputs: {}, state: run.state, runnerTemp: run.runnerTemp });
    expect(post.code).toBe(0);
    expect(post.stdout).not.toContain('cancelling');
  });
});
