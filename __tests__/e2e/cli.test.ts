/**
 * The `mcp-jobs` command line end to end: the built CLI as separate processes against the real server-everything
 * and our fixture server, every command in human and --json form, the seed's pipelines as written (with jq when the
 * machine has it, else the same documents parsed here), exit codes per outcome, tool flags from input schemas,
 * signals, bad input for every option, and records shared with the Action's entries on a simulated runner.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { CLI, describeCli, runCli, tempDir, type CliResult } from '../helpers/cli.js';
import { allFiles } from '../helpers/jobs.js';
import { gone } from '../helpers/processes.js';
import { describeRun, makeRunnerTemp, REPO_ROOT, runEntry } from '../helpers/runner.js';
import {
  fixtureTask,
  freePort,
  startEverythingServer,
  startFixtureServer,
  type RunningServer,
} from '../helpers/servers.js';

let fixture: RunningServer;
let everything: RunningServer;

beforeAll(async () => {
  [fixture, everything] = await Promise.all([startFixtureServer({ pollIntervalMs: 200 }), startEverythingServer()]);
});
afterAll(async () => {
  await Promise.all([fixture?.stop(), everything?.stop()]);
});

const HAS_JQ = spawnSync('jq', ['--version']).status === 0;

/** The CLI with its own state dir against a server. */
function on(server: () => RunningServer, stateDir = tempDir()) {
  const run = (args: string[], options: Parameters<typeof runCli>[1] = {}) =>
    runCli(['--server', server().url, '--state-dir', stateDir, ...args], options);
  return { run, stateDir };
}

function ok(result: CliResult): CliResult {
  if (result.code !== 0) throw new Error(`expected exit 0\n${describeCli(result)}`);
  return result;
}

function json(result: CliResult): any {
  try {
    return JSON.parse(result.stdout);
  } catch {
    throw new Error(`stdout is not one JSON document\n${describeCli(result)}`);
  }
}

async function submitted(
  cli: ReturnType<typeof on>,
  tool: string,
  flags: string[] = [],
): Promise<{ jobId: string; taskId: string }> {
  const out = json(ok(await cli.run(['--json', 'call', tool, ...flags, '--background'])));
  return { jobId: out.data.job_id, taskId: out.data.task_id };
}

describe('help and version', () => {
  it('--help on every command, with the exit codes; --version', async () => {
    const top = ok(await runCli(['--help']));
    expect(top.stdout).toMatch(/Commands:[\s\S]*tools[\s\S]*call TOOL[\s\S]*jobs list/);
    expect(top.stdout).toMatch(/130 +interrupted/);
    for (const args of [
      ['tools', '--help'],
      ['call', '--help'],
      ['jobs', '--help'],
      ['jobs', 'wait', '--help'],
      ['jobs', 'prune', '--help'],
      ['help', 'jobs', 'show'],
    ]) {
      const help = ok(await runCli(args));
      expect(help.stdout).toMatch(/Usage: mcp-jobs/);
    }
    expect(ok(await runCli(['jobs', 'watch', '--help'])).stdout).toContain('job_update');
    const version = JSON.parse(
      fs.readFileSync(path.join(path.dirname(CLI), '..', '..', 'package.json'), 'utf8'),
    ).version;
    expect(ok(await runCli(['--version'])).stdout.trim()).toBe(`mcp-jobs ${version}`);
    expect(json(ok(await runCli(['--json', '--version'])))).toEqual({ version });
  });
});

describe('the seed page, as written with mcp-jobs', () => {
  it('submit in the background, list, show, watch and wait, human and --json', async () => {
    const cli = on(() => everything);
    const submit = ok(await cli.run(['call', 'simulate-research-query', '--topic', 'tides', '--background']));
    const [, jobId, taskId] = /^Job submitted: (job_\w+) \(task: (\S+)\)$/m.exec(submit.stdout) ?? [];
    expect(jobId).toBeDefined();

    const list = ok(await cli.run(['jobs', 'list']));
    expect(list.stdout.trim()).toMatch(
      new RegExp(`^${jobId} +simulate-research-query +(running|completed) +${taskId} +\\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z$`),
    );
    const listed = json(ok(await cli.run(['--json', 'jobs', 'list'])));
    expect(Array.isArray(listed)).toBe(true);
    expect(listed[0]).toMatchObject({ job_id: jobId, task_id: taskId, tool: 'simulate-research-query' });

    const show = ok(await cli.run(['jobs', 'show', '--latest']));
    expect(show.stdout).toMatch(/^status: (running|completed), remote status: (working|completed)$/m);
    expect(show.stdout).toContain(`arguments: {"topic":"tides"}`);
    const shown = json(ok(await cli.run(['--json', 'jobs', 'show', '--latest'])));
    expect(shown.data.remote).toMatchObject({ task_id: taskId, generation: '2025-11-25' });
    expect(shown.contacted_server).toBe(true);

    const watch = ok(await cli.run(['jobs', 'watch', jobId!]));
    const lines = watch.stdout.split('\n');
    expect(lines[0]).toMatch(new RegExp(`^\\S+ ${jobId} (queued|running)`));
    expect(watch.stdout).toMatch(new RegExp(`${jobId} completed \\(remote completed\\)`));
    expect(watch.stdout).toContain('# Research Report: tides');

    const waited = json(ok(await cli.run(['--json', 'jobs', 'wait', '--latest'])));
    expect(waited.data.result.content[0].text).toContain('Research Report: tides');
    expect(waited).toMatchObject({ exit_code: 0, data: { status: 'completed', is_error: false } });
    // An ended job is answered from its record: show says it did not ask the server.
    expect(json(ok(await cli.run(['--json', 'jobs', 'show', jobId!]))).contacted_server).toBe(false);

    // Reading records loads neither the MCP client nor @actions/*: the files they live in are never read.
    for (const args of [
      ['jobs', 'list'],
      ['jobs', 'show', jobId!],
    ]) {
      const log = path.join(tempDir(), 'loaded.txt');
      fs.writeFileSync(log, '');
      const preload = `file://${path.join(REPO_ROOT, 'bench', 'loaded-modules.mjs')}`;
      const run = spawnSync(process.execPath, ['--import', preload, CLI, '--state-dir', cli.stateDir, ...args], {
        env: { PATH: process.env.PATH, MCP_JOBS_LOADED_LOG: log },
        encoding: 'utf8',
      });
      expect(run.status).toBe(0);
      const loaded = fs
        .readFileSync(log, 'utf8')
        .split('\n')
        .filter((url) => url.startsWith('file:') && url.includes('/dist/'))
        .map((url) => fs.readFileSync(new URL(url), 'utf8'))
        .join('\n');
      expect(loaded).toContain('jobs list');
      expect(loaded).not.toContain('StreamableHTTPClientTransport');
      expect(loaded).not.toContain('GITHUB_OUTPUT');
    }

    const watched = ok(await cli.run(['--json', 'jobs', 'watch', '--latest']));
    const events = watched.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(events.every((e) => e.event === 'job_update')).toBe(true);
    expect(events.at(-1)).toMatchObject({ phase: 'end', data: { job_id: jobId, status: 'completed' } });
  });

  it('the jq pipelines and the CI/CD script run as written', async () => {
    const stateDir = tempDir();
    const bin = tempDir('mcp-jobs-bin-');
    fs.writeFileSync(path.join(bin, 'mcp-jobs'), `#!/bin/sh\nexec '${process.execPath}' '${CLI}' "$@"\n`, {
      mode: 0o755,
    });
    const env = {
      PATH: `${bin}${path.delimiter}${process.env.PATH}`,
      HOME: process.env.HOME,
      MCP_JOBS_STATE_DIR: stateDir,
      SERVER: fixture.url,
    };
    const script = `set -e
RESULT=$(mcp-jobs --server "$SERVER" --json call slow --durationMs 300 --text deployed --background)
JOB_ID=$(echo "$RESULT" | jq -r '.data.job_id')
echo "Deployment submitted: $JOB_ID"
if ! timeout 600 mcp-jobs jobs wait "$JOB_ID"; then echo "Deployment timed out"; mcp-jobs jobs cancel "$JOB_ID"; exit 1; fi
echo "Deployment complete"
mcp-jobs --json jobs list | jq '.[].status'
mcp-jobs --json jobs show --latest | jq '.data.remote.task_id'
mcp-jobs --json jobs wait --latest | jq -r '.data.result.content[0].text'
`;
    if (HAS_JQ) {
      const out = execFileSync('bash', ['-c', script], { env: env as NodeJS.ProcessEnv, encoding: 'utf8' });
      expect(out).toMatch(/^Deployment submitted: job_\w+$/m);
      expect(out).toMatch(/^Deployment complete$/m);
      expect(out).toMatch(/^"completed"$/m);
      expect(out).toMatch(/^deployed$/m);
    } else {
      // The same documents, read here as jq would read them.
      const base = ['--server', fixture.url, '--state-dir', stateDir];
      const id = json(ok(await runCli([...base, '--json', 'call', 'slow', '--durationMs', '300', '--background']))).data
        .job_id;
      ok(await runCli([...base, 'jobs', 'wait', id]));
      expect(json(ok(await runCli([...base, '--json', 'jobs', 'list']))).map((j: any) => j.status)).toEqual([
        'completed',
      ]);
    }
  });
});

describe('exit codes', () => {
  const cli = on(() => fixture);

  it('0 completed, 1 tool error, 3 canceled, 4 timed out (cancelled, or left running)', async () => {
    expect(ok(await cli.run(['call', 'slow', '--durationMs', '50', '--text', 'fine'])).stdout).toContain('fine');
    const failed = await cli.run(['call', 'fail', '--message', 'broken on purpose']);
    expect(failed.code).toBe(1);
    expect(failed.stdout).toContain('broken on purpose');

    const { jobId, taskId } = await submitted(cli, 'until-cancelled');
    const cancel = ok(await cli.run(['jobs', 'cancel', jobId, '--reason', 'not needed']));
    expect(cancel.stdout).toMatch(/^status: canceled, remote status: cancelled$/m);
    expect((await fixtureTask(fixture, taskId))?.status).toBe('cancelled');
    const afterCancel = await cli.run(['--json', 'jobs', 'wait', jobId]);
    expect(afterCancel.code).toBe(3);
    expect(json(afterCancel)).toMatchObject({ exit_code: 3, data: { status: 'canceled', cancel_reason: 'user' } });
    // Cancelling again: nothing to send, and it says so.
    expect(json(ok(await cli.run(['--json', 'jobs', 'cancel', jobId])))).toMatchObject({ sent: false });

    const timed = await submitted(cli, 'until-cancelled');
    const timeout = await cli.run(['jobs', 'wait', timed.jobId, '--timeout', '3s']);
    expect(timeout.code).toBe(4);
    expect((await fixtureTask(fixture, timed.taskId))?.status).toBe('cancelled');

    const left = await submitted(cli, 'until-cancelled');
    const leftRun = await cli.run(['jobs', 'wait', left.jobId, '--timeout', '3s', '--no-cancel-on-timeout']);
    expect(leftRun.code).toBe(4);
    expect((await fixtureTask(fixture, left.taskId))?.status).toBe('working');
    ok(await cli.run(['jobs', 'cancel', left.jobId]));

    const deadline = await cli.run(['call', 'until-cancelled', '--timeout', '3s']);
    expect(deadline.code).toBe(4);
  });

  it('5 when the job waits for input nobody gave', async () => {
    const run = await cli.run(['--json', 'call', 'ask-outside', '--message', 'Which region?', '--timeout', '60s']);
    expect(run.code).toBe(5);
    expect(json(run).error.code).toBe('INPUT_REQUIRED');
    ok(await cli.run(['jobs', 'cancel', '--latest']));
  });

  it('6 when the server is unreachable; 2 for an unknown tool', async () => {
    const port = await freePort();
    const down = await runCli([
      '--json',
      '--server',
      `http://127.0.0.1:${port}/mcp`,
      '--state-dir',
      cli.stateDir,
      'tools',
    ]);
    expect(down.code).toBe(6);
    expect(json(down).error).toMatchObject({ code: 'SERVER_UNREACHABLE', exit_code: 6 });
    const unknown = await cli.run(['call', 'no-such-tool', '--x', '1']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/TOOL_NOT_FOUND.*no tool 'no-such-tool'.*slow/);
  });

  it('130 on SIGINT during wait: the server saw the cancel', async () => {
    const { jobId, taskId } = await submitted(cli, 'until-cancelled');
    const run = await cli.run(['jobs', 'wait', jobId], { signal: { name: 'SIGINT', when: /Waiting for job_/ } });
    expect(run.code).toBe(130);
    expect((await fixtureTask(fixture, taskId))?.status).toBe('cancelled');
    expect(fixture.stdout()).toContain(`CANCELLED ${taskId}`);
    const record = JSON.parse(
      fs.readFileSync(path.join(cli.stateDir, 'instances', 'default', 'jobs', `${jobId}.json`), 'utf8'),
    );
    expect(record).toMatchObject({
      status: 'canceled',
      cancelReason: 'signal',
    });
  });
});

describe('tool flags from the input schema', () => {
  const cli = on(() => fixture);

  it('strings, numbers, integers, kebab-case names and --args', async () => {
    const done = json(
      ok(await cli.run(['--json', 'call', 'slow', '--duration-ms', '20', '--text', 'a b', '--statusMessages', '1'])),
    );
    expect(done.data.arguments).toEqual({ durationMs: 20, text: 'a b', statusMessages: 1 });
    expect(done.data.result.content[0].text).toBe('a b');
    const merged = json(
      ok(await cli.run(['--json', 'call', 'slow', '--args', '{"durationMs": 10, "text": "x"}', '--text', 'y'])),
    );
    expect(merged.data.arguments).toEqual({ durationMs: 10, text: 'y' });
    const booleans = json(
      ok(
        await cli.run([
          '--json',
          'call',
          'ask-outside',
          '--no-inputRequired',
          '--waitForStreamMs',
          '0',
          '--background',
        ]),
      ),
    );
    expect(booleans.data.arguments).toEqual({ inputRequired: false, waitForStreamMs: 0 });
    ok(await cli.run(['jobs', 'cancel', booleans.data.job_id]));
    const help = ok(await cli.run(['call', 'slow', '--help']));
    expect(help.stdout).toContain('--duration-ms <number> (required)');
  });

  it('an unknown flag, a bad value, a missing required flag: exit 2 listing the flags; nothing submitted', async () => {
    const before = (await cli.run(['--json', 'jobs', 'list'])).stdout;
    for (const [flags, problem] of [
      [['--durationMs', 'soon'], /--duration-ms must be a number \(got 'soon'\)/],
      [['--durationMs', '1', '--statusMessages', '1.5'], /--status-messages must be a whole number/],
      [['--durationMs', '1', '--bogus', '1'], /Unknown flag --bogus/],
      [['--text', 'x'], /Missing required --duration-ms/],
      [['--durationMs'], /needs a value/],
    ] as const) {
      const run = await cli.run(['call', 'slow', ...flags]);
      expect(run.code).toBe(2);
      expect(run.stderr).toMatch(problem);
      expect(run.stderr).toContain('--duration-ms <number> (required)');
    }
    expect((await cli.run(['--json', 'jobs', 'list'])).stdout).toBe(before);
  });
});

describe('--command: a stdio server without tasks, through the job runner', () => {
  const PLAIN = path.join(REPO_ROOT, '__tests__', 'fixtures', 'plain-stdio-server.mjs');

  it('tools, call --background, then jobs wait in another process; nothing is left running', async () => {
    const stateDir = tempDir();
    const events = path.join(tempDir(), 'events');
    const env = { PLAIN_EVENTS_FILE: events, FIXTURE_SECRET_TOKEN: 'sk-cli-stdio-5e1f' };
    const base = ['--command', `${process.execPath} ${PLAIN}`, '--state-dir', stateDir];
    const tools = json(ok(await runCli([...base, '--json', 'tools'], { env })));
    expect(tools.map((t: { name: string }) => t.name)).toEqual(expect.arrayContaining(['slow', 'crash']));
    const submit = json(
      ok(await runCli([...base, '--json', 'call', 'slow', '--ms', '1500', '--steps', '3', '--background'], { env })),
    );
    const jobId: string = submit.data.job_id;
    expect(submit.data).toMatchObject({ status: expect.stringMatching(/queued|running/), kind: 'call' });
    const wait = json(ok(await runCli(['--state-dir', stateDir, '--json', 'jobs', 'wait', jobId], { env })));
    expect(wait.data).toMatchObject({ job_id: jobId, status: 'completed' });
    expect(JSON.stringify(wait.data.result)).toMatch(/slow|done|ms/i);
    // The job runner and its stdio server end once the job has: both PIDs are gone.
    const record = JSON.parse(
      fs.readFileSync(path.join(stateDir, 'instances', 'default', 'jobs', `${jobId}.json`), 'utf8'),
    );
    const serverPid = Number(/pid (\d+)/.exec(fs.readFileSync(events, 'utf8'))![1]);
    expect(await gone(record.runner.pid)).toBe(true);
    expect(await gone(serverPid)).toBe(true);
    // The environment's secret is in no file the CLI or the runner wrote.
    for (const { file, text } of allFiles(stateDir))
      expect({ file, leaked: text.includes(env.FIXTURE_SECRET_TOKEN) }).toEqual({ file, leaked: false });
  });
});

describe('bad input for every option', () => {
  const stateDir = tempDir();
  const cases: Array<[string[], RegExp]> = [
    [['--bogus', 'jobs', 'list'], /Unknown global option '--bogus'/],
    [['--server', 'ftp://x', 'tools'], /Input '--server' must be an http\(s\) URL/],
    [['--server', 'http://u:p@127.0.0.1/mcp', 'tools'], /must not carry credentials/],
    [['--header', 'no colon here', 'jobs', 'list'], /--header/],
    [['--protocol', '1999', 'jobs', 'list'], /--protocol' must be one of auto/],
    [['--store', 'floppy', 'jobs', 'list'], /--store' must be one of/],
    [['--instance', '../up', 'jobs', 'list'], /--instance' must be/],
    [['--state-dir', '', 'jobs', 'list'], /--state-dir' is empty/],
    [['--server'], /--server needs a value/],
    [['tools'], /needs a server: give --server URL or --command/],
    [
      ['--server', 'http://127.0.0.1:1/mcp', '--command', 'node x.js', 'tools'],
      /--command' and --server are both given/,
    ],
    [['--command', 'node x.js', '--header', 'A: b', 'tools'], /--header' is given with --command/],
    [['--command', 'node x.js', '--protocol', '2026-07-28', 'tools'], /--protocol' is 2026-07-28/],
    [['--command', 'node x.js | tee log', 'tools'], /--command' contains the shell operator '\|'/],
    [['--command', '', 'tools'], /--command' is empty/],
    [['jobs'], /which one\?/],
    [['jobs', 'frobnicate'], /unknown command 'frobnicate'/],
    [['launch'], /unknown command 'launch'/],
    [['jobs', 'list', '--status', 'done'], /--status' must be one of queued/],
    [['jobs', 'list', '--limit', '0'], /--limit' must be a whole number/],
    [['jobs', 'list', '--colour'], /Unknown option '--colour'/],
    [['jobs', 'show'], /Give a job ID \(job_…\) or --latest/],
    [['jobs', 'show', 'job_../../etc'], /must be a job ID/],
    [['jobs', 'show', 'job_aaaaaaaa', '--latest'], /not both/],
    [['jobs', 'wait', '--latest', '--timeout', 'soon'], /--timeout' must be a duration/],
    [['jobs', 'wait', '--latest', '--input-responses', '[1]'], /--input-responses' must be a JSON object/],
    [['jobs', 'prune', '--older-than', 'ages'], /--older-than' must be a duration/],
    [['call'], /which tool\?/],
    [['call', 'x', '--args', '{nope'], /--args' is not valid JSON/],
    [['call', 'x', '--job-key', ''], /--job-key' must be 1 to 256/],
    [['call', 'x', '--timeout', '-1'], /--timeout' must be a duration/],
  ];
  it.each(cases)('%j', async (args, message) => {
    const base = args.includes('--state-dir') ? [] : ['--state-dir', stateDir];
    const run = await runCli([...base, ...args]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(message);
    expect(run.stdout).toBe('');
    const asJson = await runCli(['--json', ...base, ...args]);
    expect(asJson.code).toBe(2);
    expect(json(asJson).error).toMatchObject({ code: 'INVALID_INPUT', exit_code: 2 });
  });

  it('a state dir that is a file', async () => {
    const file = path.join(tempDir(), 'file');
    fs.writeFileSync(file, '');
    const run = await runCli(['--state-dir', file, 'jobs', 'list']);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/STORE_UNAVAILABLE.*cannot hold job records/);
  });

  it('--latest with no jobs: JOB_NOT_FOUND, exit 2, for show, wait, cancel and watch', async () => {
    const empty = tempDir();
    for (const sub of ['show', 'wait', 'cancel', 'watch']) {
      const run = await runCli(['--json', '--state-dir', empty, 'jobs', sub, '--latest']);
      expect(run.code).toBe(2);
      expect(json(run).error.code).toBe('JOB_NOT_FOUND');
    }
    expect(json(ok(await runCli(['--json', '--state-dir', empty, 'jobs', 'list'])))).toEqual([]);
    expect(ok(await runCli(['--state-dir', empty, 'jobs', 'list'])).stdout).toBe('\n');
  });

  it('header values are used, never printed or stored', async () => {
    const stateDir = tempDir();
    const secret = 'Bearer s3cr3t-token-value';
    const base = ['--server', fixture.url, '--header', `Authorization: ${secret}`, '--state-dir', stateDir];
    ok(await runCli([...base, 'tools']));
    const run = ok(await runCli([...base, '--json', 'call', 'slow', '--durationMs', '10']));
    expect(run.stdout + run.stderr).not.toContain('s3cr3t');
    expect(allFiles(stateDir).filter((f) => f.text.includes('s3cr3t'))).toEqual([]);
  });
});

describe('records shared with the Action on a runner', () => {
  it('a run: step sees the submit step’s jobs and the other way round; show, setup and the error output', async () => {
    const runnerTemp = makeRunnerTemp();
    const submit = await runEntry('submit', {
      runnerTemp,
      inputs: { server: fixture.url, tool: 'slow', arguments: '{"durationMs": 3000, "text": "from the action"}' },
    });
    if (submit.code !== 0) throw new Error(describeRun(submit));
    expect(submit.outputs.error).toBe('');
    const jobId = submit.outputs['job-id']!;
    const env = { RUNNER_TEMP: runnerTemp };

    const shown = await runEntry('show', { runnerTemp, inputs: { 'job-id': 'latest' } });
    expect(shown.code).toBe(0);
    expect(shown.outputs).toMatchObject({ 'job-id': jobId, error: '' });
    expect(['running', 'completed']).toContain(shown.outputs.status);
    expect(shown.outputs.ended).toBe(String(shown.outputs.status === 'completed'));

    const listed = json(ok(await runCli(['--json', 'jobs', 'list'], { env })));
    expect(listed.map((j: any) => j.job_id)).toEqual([jobId]);
    const waited = json(ok(await runCli(['--json', 'jobs', 'wait', '--latest'], { env })));
    expect(waited.data.result.content[0].text).toBe('from the action');

    const ended = await runEntry('show', { runnerTemp, inputs: { 'job-id': jobId } });
    expect(ended.outputs).toMatchObject({
      status: 'completed',
      ended: 'true',
      text: 'from the action',
      'is-error': 'false',
    });

    const mine = json(
      ok(
        await runCli(['--server', fixture.url, '--json', 'call', 'slow', '--durationMs', '20', '--background'], {
          env,
        }),
      ),
    );
    const wait = await runEntry('wait', { runnerTemp, inputs: { 'job-id': mine.data.job_id } });
    expect(wait.code).toBe(0);
    expect(wait.outputs.status).toBe('completed');

    const missing = await runEntry('wait', { runnerTemp, inputs: { 'job-id': 'job_doesnotexist000' } });
    expect(missing.code).toBe(1);
    expect(missing.outputs.error).toMatch(/^JOB_NOT_FOUND: .*job_doesnotexist000/);

    const setup = await runEntry('setup', { runnerTemp, inputs: {} });
    expect(setup.code).toBe(0);
    const command = setup.outputs.path!;
    expect(command.startsWith(runnerTemp)).toBe(true);
    expect(execFileSync(command, ['--version'], { encoding: 'utf8' }).trim()).toMatch(/^mcp-jobs \d/);
    const list = execFileSync(command, ['jobs', 'list'], { encoding: 'utf8', env: { ...process.env, ...env } });
    expect(list).toContain(jobId);
  });

  it('prune removes ended jobs only', async () => {
    const cli = on(() => fixture);
    await submitted(cli, 'slow', ['--durationMs', '10']);
    ok(await cli.run(['jobs', 'wait', '--latest']));
    const running = await submitted(cli, 'until-cancelled');
    expect(json(ok(await cli.run(['--json', 'jobs', 'prune', '--older-than', '1h'])))).toEqual([]);
    const dry = json(ok(await cli.run(['--json', 'jobs', 'prune', '--dry-run'])));
    expect(dry.map((j: any) => j.status)).toEqual(['completed']);
    const pruned = ok(await cli.run(['jobs', 'prune']));
    expect(pruned.stdout).toMatch(/removed 1 ended job$/m);
    expect(json(ok(await cli.run(['--json', 'jobs', 'list']))).map((j: any) => j.job_id)).toEqual([running.jobId]);
    ok(await cli.run(['jobs', 'cancel', running.jobId]));
  });
});
