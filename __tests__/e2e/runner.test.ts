/**
 * End to end: background jobs of stdio servers and of servers without task support, through the detached job
 * runner. The built entries run as separate processes with runner env files and share only RUNNER_TEMP, as steps
 * of one workflow job do; the servers are real (server-everything over stdio and HTTP, a small SDK server without
 * tasks over stdio). Every process started is checked by PID to be gone at the end.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import fs from 'node:fs';
import path from 'node:path';
import { allFiles, readRecord, stateDirOf } from '../helpers/jobs.js';
import { describeRun, makeRunnerTemp, runEntry, type RunEntryResult } from '../helpers/runner.js';
import { alive, gone } from '../helpers/processes.js';
import { EVERYTHING_ENTRY, FIXTURES_DIR, startEverythingServer, type RunningServer } from '../helpers/servers.js';

const PLAIN_SERVER = path.join(FIXTURES_DIR, 'plain-stdio-server.mjs');
const EVERYTHING_STDIO = `node ${EVERYTHING_ENTRY} stdio`;
const SECRET = 'sk-stdio-secret-6c1f0d9e4b';

/** The PIDs the job runner logged: its own and each stdio server's. */
function runnerPids(runnerTemp: string): { runners: number[]; servers: number[] } {
  const log = path.join(stateDirOf(runnerTemp), 'runner', 'runner.log');
  const text = fs.existsSync(log) ? fs.readFileSync(log, 'utf8') : '';
  return {
    runners: [...text.matchAll(/runner: pid (\d+) serving/g)].map((m) => Number(m[1])),
    servers: [...text.matchAll(/stdio server pid (\d+) up/g)].map((m) => Number(m[1])),
  };
}

async function nothingLeft(runnerTemp: string): Promise<void> {
  const { runners, servers } = runnerPids(runnerTemp);
  for (const pid of [...runners, ...servers]) expect({ pid, gone: await gone(pid) }).toEqual({ pid, gone: true });
}

function ok(run: RunEntryResult): void {
  if (run.code !== 0) throw new Error(describeRun(run));
}

describe('server-everything over stdio', () => {
  const runnerTemp = makeRunnerTemp();
  const workspace = makeRunnerTemp('mcp-jobs-workspace-');

  it('runs simulate-research-query as a task in the job runner; a later wait gets the result; nothing is left', async () => {
    const submit = await runEntry('submit', {
      runnerTemp,
      env: { GITHUB_WORKSPACE: workspace },
      inputs: { command: EVERYTHING_STDIO, tool: 'simulate-research-query', arguments: '{"topic":"stdio"}' },
    });
    ok(submit);
    const jobId = submit.outputs['job-id']!;
    expect(submit.outputs.status).toBe('running');
    const record = readRecord(runnerTemp, jobId);
    expect(record.server).toEqual({ transport: 'stdio', command: ['node', EVERYTHING_ENTRY, 'stdio'], cwd: workspace });
    expect(record.kind).toBe('task');
    expect(record.runner.pid).toEqual(expect.any(Number));
    expect(record.runner.workflowJob).toBe('4242424242/1/mcp-jobs-test');
    expect(record.status).toBe('running');
    const wait = await runEntry('wait', { runnerTemp, inputs: { 'job-id': jobId } });
    ok(wait);
    expect(wait.outputs.status).toBe('completed');
    expect(wait.outputs.result).toContain('Research Report');
    expect(readRecord(runnerTemp, jobId).status).toBe('completed');
    await nothingLeft(runnerTemp);
    expect(await gone(record.runner.pid)).toBe(true);
  });

  it('cancel of a task job sends tasks/cancel; the job ends canceled as the server says', async () => {
    const submit = await runEntry('submit', {
      runnerTemp,
      env: { GITHUB_WORKSPACE: workspace },
      inputs: { command: EVERYTHING_STDIO, tool: 'simulate-research-query', arguments: '{"topic":"cancel me"}' },
    });
    ok(submit);
    const cancel = await runEntry('cancel', { runnerTemp, inputs: { 'job-id': submit.outputs['job-id']! } });
    ok(cancel);
    expect(cancel.outputs.status).toBe('canceled');
    const record = readRecord(runnerTemp, submit.outputs['job-id']!);
    expect(record.remoteStatus).toBe('cancelled');
    expect(record.cancelReason).toBe('user');
    await nothingLeft(runnerTemp);
  });

  it('runs the task-less trigger-long-running-operation as a plain call with progress', async () => {
    const submit = await runEntry('submit', {
      runnerTemp,
      env: { GITHUB_WORKSPACE: workspace },
      inputs: {
        command: EVERYTHING_STDIO,
        tool: 'trigger-long-running-operation',
        arguments: '{"duration":3,"steps":3}',
      },
    });
    ok(submit);
    const jobId = submit.outputs['job-id']!;
    expect(readRecord(runnerTemp, jobId).kind).toBe('call');
    const wait = await runEntry('wait', { runnerTemp, inputs: { 'job-id': jobId } });
    ok(wait);
    expect(wait.outputs.status).toBe('completed');
    // server-everything may answer before its last progress notification: the ones before it are there.
    expect(wait.stdout).toMatch(new RegExp(`${jobId}: progress [12]/3`));
    expect(readRecord(runnerTemp, jobId).progress).toEqual(expect.objectContaining({ total: 3 }));
    await nothingLeft(runnerTemp);
  });
});

describe('an SDK server without task support, over stdio', () => {
  const runnerTemp = makeRunnerTemp();
  const events = path.join(runnerTemp, 'plain-events.log');
  const env = { FIXTURE_SECRET_TOKEN: SECRET, PLAIN_EVENTS_FILE: events, GITHUB_WORKSPACE: runnerTemp };
  const fixturePids = (): number[] =>
    fs.existsSync(events)
      ? [...fs.readFileSync(events, 'utf8').matchAll(/^pid (\d+)$/gm)].map((m) => Number(m[1]))
      : [];
  const submitSlow = (extra: Record<string, string> = {}, more: Record<string, string> = {}) =>
    runEntry('submit', {
      runnerTemp,
      env: { ...env, ...more },
      inputs: { command: `node ${PLAIN_SERVER}`, tool: 'slow', arguments: '{"ms":600000,"steps":1}', ...extra },
    });

  afterAll(async () => {
    for (const pid of fixturePids()) if (alive(pid)) process.kill(pid, 'SIGKILL');
    for (const pid of runnerPids(runnerTemp).runners) if (alive(pid)) process.kill(pid, 'SIGKILL');
  });

  it('cancel sends notifications/cancelled; the job ends canceled; no secret of env: is in any byte written', async () => {
    const submit = await submitSlow();
    ok(submit);
    const jobId = submit.outputs['job-id']!;
    expect(submit.outputs.status).toBe('running');
    const cancel = await runEntry('cancel', {
      runnerTemp,
      env,
      inputs: { 'job-id': jobId, reason: 'no longer needed' },
    });
    ok(cancel);
    expect(cancel.outputs.status).toBe('canceled');
    const record = readRecord(runnerTemp, jobId);
    expect(record.status).toBe('canceled');
    expect(record.cancelReason).toBe('user');
    await nothingLeft(runnerTemp);
    for (const pid of fixturePids()) expect(await gone(pid)).toBe(true);
    expect(fs.readFileSync(events, 'utf8')).toContain('cancelled slow');
    // The server wrote the secret to its stderr: the log keeps it masked, and nothing else has it.
    const stderrLogs = allFiles(path.join(stateDirOf(runnerTemp), 'runner')).filter((f) =>
      f.file.endsWith('.stderr.log'),
    );
    expect(stderrLogs.map((f) => f.text).join('')).toContain('plain server starting with token ***');
    for (const { file, text } of allFiles(stateDirOf(runnerTemp)))
      expect({ file, leaked: text.includes(SECRET) }).toEqual({ file, leaked: false });
    for (const run of [submit, cancel]) {
      const visible = run.stdout.split('\n').filter((l) => !l.startsWith('::add-mask::'));
      expect(visible.join('\n') + run.summary + JSON.stringify(run.outputs)).not.toContain(SECRET);
    }
  });

  it('the root action runs a stdio call in its own process, without a job runner', async () => {
    const temp = makeRunnerTemp();
    const call = await runEntry('call', {
      runnerTemp: temp,
      env,
      inputs: { command: `node ${PLAIN_SERVER}`, tool: 'slow', arguments: '{"ms":300,"steps":1}' },
    });
    ok(call);
    expect(call.outputs.status).toBe('completed');
    expect(call.outputs.result).toContain('slow done after 300 ms');
    const record = readRecord(temp, call.outputs['job-id']!);
    expect(record.kind).toBe('call');
    expect(record.runner).toBeUndefined();
    expect(fs.existsSync(path.join(stateDirOf(temp), 'runner', 'runner.log'))).toBe(false);
  });

  it('fallback: error refuses a server without tasks, and leaves no process', async () => {
    const submit = await submitSlow({ fallback: 'error' });
    expect(submit.code).toBe(1);
    expect(submit.stdout).toMatch(/::error[^\n]*does not support tasks/);
    expect(readRecord(runnerTemp, submit.outputs['job-id']!).status).toBe('failed');
    await nothingLeft(runnerTemp);
  });

  it('a command that is not found, or exits before initialize, fails submit with its stderr and exit code', async () => {
    const missing = await runEntry('submit', {
      runnerTemp,
      env,
      inputs: { command: 'mcp-jobs-no-such-program --stdio', tool: 'slow' },
    });
    expect(missing.code).toBe(1);
    expect(missing.stdout).toMatch(/::error[^\n]*could not be started[^\n]*ENOENT/);
    const early = await runEntry('submit', {
      runnerTemp,
      env,
      inputs: { command: `node ${PLAIN_SERVER} --die-early`, tool: 'slow' },
    });
    expect(early.code).toBe(1);
    expect(early.stdout).toMatch(/::error[^\n]*exited with code 7 before it answered initialize/);
    expect(early.stdout).toContain('fatal: the plain server has no configuration');
    expect(readRecord(runnerTemp, early.outputs['job-id']!).status).toBe('failed');
    await nothingLeft(runnerTemp);
  });

  it('a server that crashes mid-job fails the job with its exit code and stderr tail', async () => {
    const submit = await runEntry('submit', {
      runnerTemp,
      env,
      inputs: { command: `node ${PLAIN_SERVER}`, tool: 'crash' },
    });
    ok(submit);
    const wait = await runEntry('wait', { runnerTemp, env, inputs: { 'job-id': submit.outputs['job-id']! } });
    expect(wait.code).toBe(1);
    expect(wait.outputs.status).toBe('failed');
    const record = readRecord(runnerTemp, submit.outputs['job-id']!);
    expect(record.error.message).toContain('exited with code 3');
    expect(record.error.message).toContain('plain server: crashing now');
    await nothingLeft(runnerTemp);
  });

  it('a killed job runner fails the job with the reason', async () => {
    const submit = await submitSlow();
    ok(submit);
    const jobId = submit.outputs['job-id']!;
    const { pid } = readRecord(runnerTemp, jobId).runner;
    process.kill(pid, 'SIGKILL');
    expect(await gone(pid)).toBe(true);
    const wait = await runEntry('wait', { runnerTemp, env, inputs: { 'job-id': jobId } });
    expect(wait.code).toBe(1);
    expect(wait.outputs.status).toBe('failed');
    expect(readRecord(runnerTemp, jobId).error.message).toContain(`The mcp-jobs job runner (pid ${pid}) ended before`);
    // Its stdio server saw its stdin close and went too.
    for (const p of fixturePids()) expect(await gone(p)).toBe(true);
  });

  it('another workflow job is told where the job lives; at the workflow job end the post step cancels it', async () => {
    const submit = await submitSlow();
    ok(submit);
    const jobId = submit.outputs['job-id']!;
    const other = { ...env, GITHUB_JOB: 'other-job' };
    const elsewhere = await runEntry('wait', { runnerTemp, env: other, inputs: { 'job-id': jobId } });
    expect(elsewhere.code).toBe(1);
    expect(elsewhere.stdout).toMatch(/::error[^\n]*job runner of workflow job 'mcp-jobs-test' \(run 4242424242/);
    expect(readRecord(runnerTemp, jobId).status).toBe('running');
    const post = await runEntry('post', { runnerTemp, env, inputs: {}, state: submit.state });
    ok(post);
    const record = readRecord(runnerTemp, jobId);
    expect(record.status).toBe('canceled');
    expect(record.statusMessage).toBe('Canceled: the workflow job ended');
    await nothingLeft(runnerTemp);
    // Once ended, its record answers in the other workflow job too.
    const later = await runEntry('wait', { runnerTemp, env: other, inputs: { 'job-id': jobId } });
    expect(later.stdout).toContain('answered from the job record');
    expect(later.outputs.status).toBe('canceled');
  });
});

describe('server-everything over HTTP, a tool without task support', () => {
  let server: RunningServer;
  const runnerTemp = makeRunnerTemp();
  beforeAll(async () => {
    server = await startEverythingServer();
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('fallback: sync runs the call inside submit and records its result', async () => {
    const submit = await runEntry('submit', {
      runnerTemp,
      inputs: { server: server.url, tool: 'echo', arguments: '{"message":"hi there"}', fallback: 'sync' },
    });
    ok(submit);
    expect(submit.outputs.status).toBe('completed');
    const record = readRecord(runnerTemp, submit.outputs['job-id']!);
    expect(record.kind).toBe('call');
    expect(record.runner).toBeUndefined();
    expect(JSON.stringify(record.result)).toContain('hi there');
  });

  it('fallback: background keeps the plain call open in the job runner until a later wait', async () => {
    const submit = await runEntry('submit', {
      runnerTemp,
      inputs: { server: server.url, tool: 'trigger-long-running-operation', arguments: '{"duration":1,"steps":1}' },
    });
    ok(submit);
    const jobId = submit.outputs['job-id']!;
    const record = readRecord(runnerTemp, jobId);
    expect(record.kind).toBe('call');
    expect(record.runner.pid).toEqual(expect.any(Number));
    const wait = await runEntry('wait', { runnerTemp, inputs: { 'job-id': jobId } });
    ok(wait);
    expect(wait.outputs.status).toBe('completed');
    await nothingLeft(runnerTemp);
  });
});
