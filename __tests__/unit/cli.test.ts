/** The CLI's pure parts: argv, tool flags from input schemas, state-dir resolution, exit codes and rendering. */
import { describe, expect, it } from '@jest/globals';
import path from 'node:path';
import { parseInvocation, resolveStateDir } from '../../src/cli/args.js';
import { EXIT, exitForError, exitForWait } from '../../src/cli/exit.js';
import { helpText } from '../../src/cli/help.js';
import { jobJson, listLines, showLines, updateJson } from '../../src/cli/render.js';
import { describeFlags, parseToolFlags, toolFlags } from '../../src/cli/tool-flags.js';
import { ERROR_CODES, isJobError } from '../../src/core/errors.js';
import type { JsonObject } from '../../src/core/parse.js';
import { applyChange, createRecord, type JobRecord } from '../../src/core/record.js';

const SCHEMA: JsonObject = {
  type: 'object',
  properties: {
    version: { type: 'string', description: 'What to deploy' },
    replicas: { type: 'integer' },
    ratio: { type: 'number' },
    dryRun: { type: 'boolean' },
    format: { type: 'string', enum: ['csv', 'parquet'] },
    tags: { type: 'array', items: { type: 'string' } },
    ports: { type: 'array', items: { type: 'integer' } },
    options: { type: 'object' },
    anything: {},
    nullable: { type: ['string', 'null'] },
  },
  required: ['version'],
};

function problem(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    if (!isJobError(error, 'INVALID_INPUT')) throw error;
    return error.message;
  }
  throw new Error('expected an INVALID_INPUT error');
}

describe('tool flags', () => {
  it('every type of the schema', () => {
    const args = parseToolFlags('deploy', SCHEMA, [
      '--version',
      '2.0',
      '--replicas=3',
      '--ratio',
      '0.5',
      '--dry-run',
      '--format',
      'parquet',
      '--tags',
      'a',
      '--tags',
      'b',
      '--ports',
      '80',
      '--ports',
      '[443, 8443]',
      '--options',
      '{"deep": {"x": 1}}',
      '--anything',
      '[1,"two"]',
      '--nullable',
      'n',
    ]);
    expect(args).toEqual({
      version: '2.0',
      replicas: 3,
      ratio: 0.5,
      dryRun: true,
      format: 'parquet',
      tags: ['a', 'b'],
      ports: [80, 443, 8443],
      options: { deep: { x: 1 } },
      anything: [1, 'two'],
      nullable: 'n',
    });
    expect(parseToolFlags('deploy', SCHEMA, ['--version', '1', '--no-dryRun'])).toEqual({
      version: '1',
      dryRun: false,
    });
    expect(parseToolFlags('deploy', SCHEMA, ['--version', '1', '--dryRun=false'])).toEqual({
      version: '1',
      dryRun: false,
    });
    expect(parseToolFlags('deploy', SCHEMA, ['--anything', 'plain words', '--version', 'v'])).toEqual({
      version: 'v',
      anything: 'plain words',
    });
  });

  it('--args gives the base, flags win, required may come from either', () => {
    expect(parseToolFlags('deploy', SCHEMA, ['--replicas', '2'], { version: '9', replicas: 1 })).toEqual({
      version: '9',
      replicas: 2,
    });
  });

  it('bad values, unknown flags and missing required ones name the flag and list every flag', () => {
    const cases: Array<[string[], RegExp]> = [
      [['--version', '1', '--replicas', 'many'], /--replicas must be a number \(got 'many'\)/],
      [['--version', '1', '--replicas', '1.5'], /--replicas must be a whole number/],
      [['--version', '1', '--ratio', ''], /--ratio must be a number/],
      [['--version', '1', '--format', 'xml'], /--format must be one of csv, parquet/],
      [['--version', '1', '--options', '[1]'], /--options must be a JSON object/],
      [['--version', '1', '--options', '{'], /--options must be JSON/],
      [['--version', '1', '--ports', 'eighty'], /--ports must be a number/],
      [['--version', '1', '--dry-run=yes'], /--dry-run must be true or false/],
      [['--version', '1', '--colour', 'red'], /Unknown flag --colour/],
      [['--version', '1', 'stray'], /Unexpected argument 'stray'/],
      [['--version'], /--version needs a value/],
      [['--replicas', '1'], /Missing required --version/],
    ];
    for (const [argv, message] of cases) {
      const text = problem(() => parseToolFlags('deploy', SCHEMA, argv));
      expect(text).toMatch(message);
      expect(text).toContain("Tool 'deploy': its flags:");
      expect(text).toContain('--version <string> (required)  What to deploy');
      expect(text).toContain('--dry-run, --no-dry-run');
      expect(text).toContain('--format <csv|parquet>');
      expect(text).toContain('--tags <string...> (repeatable)');
    }
    expect(problem(() => parseToolFlags('noop', {}, ['--x', '1']))).toMatch(/it takes no arguments/);
  });

  it('server text in a schema is shown inert', () => {
    const hostile = toolFlags({ properties: { x: { type: 'string', description: 'line\n::error::owned' } } });
    expect(describeFlags(hostile)[0]).not.toContain('\n');
  });
});

describe('argv', () => {
  const env = { HOME: '/home/u' };

  it('global options, then the command and its options', () => {
    const inv = parseInvocation(
      [
        '--server',
        'http://127.0.0.1:1/mcp',
        '--header',
        'Authorization: Bearer t',
        '--header=X-Team: a',
        '--json',
        '--instance',
        'ci',
        '--state-dir',
        'rel',
        'call',
        'deploy',
        '--version',
        '2.0',
        '--background',
        '--timeout',
        '15m',
        '--job-key',
        'k',
      ],
      env,
    );
    expect(inv.global).toMatchObject({
      server: { url: 'http://127.0.0.1:1/mcp', protocol: 'auto' },
      headers: { Authorization: 'Bearer t', 'X-Team': 'a' },
      json: true,
      instance: 'ci',
      stateDir: path.resolve('rel'),
      store: 'local',
    });
    expect(inv.command).toEqual({
      name: 'call',
      tool: 'deploy',
      toolArgv: ['--version', '2.0'],
      background: true,
      timeoutMs: 900_000,
      jobKey: 'k',
    });
  });

  it('jobs commands', () => {
    const cmd = (...argv: string[]) => parseInvocation(argv, env).command;
    expect(cmd('jobs', 'list', '--status', 'running', '--limit', '5')).toEqual({
      name: 'list',
      status: 'running',
      limit: 5,
    });
    expect(cmd('jobs', 'show', '--latest')).toEqual({ name: 'show', job: 'latest' });
    expect(cmd('jobs', 'wait', 'job_abcdefgh', '--timeout', '90s', '--no-cancel-on-timeout')).toEqual({
      name: 'wait',
      job: 'job_abcdefgh',
      timeoutMs: 90_000,
      cancelOnTimeout: false,
    });
    expect(cmd('jobs', 'cancel', '--latest', '--reason', 'stop')).toEqual({
      name: 'cancel',
      job: 'latest',
      reason: 'stop',
    });
    expect(cmd('jobs', 'prune', '--older-than', '7d', '--dry-run')).toEqual({
      name: 'prune',
      olderThanMs: 7 * 86_400_000,
      dryRun: true,
    });
    expect(cmd('jobs', 'wait', '--help')).toEqual({ name: 'help', topic: ['jobs', 'wait'] });
    expect(cmd('call', 'deploy', '--help').name).toBe('call');
    expect(cmd('--help')).toEqual({ name: 'help', topic: [] });
    // Help never fails on a bad option: it explains them.
    expect(cmd('--store', 'nope', '--help').name).toBe('help');
  });

  it('a header value never appears in an error', () => {
    const text = problem(() => parseInvocation(['--header', 'Authorizationsecret-value', 'jobs', 'list'], env));
    expect(text).not.toContain('secret-value');
  });

  it('state dir: flag, MCP_JOBS_STATE_DIR, RUNNER_TEMP, XDG_STATE_HOME, ~/.local/state', () => {
    const all = { MCP_JOBS_STATE_DIR: '/a', RUNNER_TEMP: '/b', XDG_STATE_HOME: '/c' };
    expect(resolveStateDir('/flag', all, '/h')).toBe('/flag');
    expect(resolveStateDir(undefined, all, '/h')).toBe('/a');
    expect(resolveStateDir(undefined, { ...all, MCP_JOBS_STATE_DIR: '' }, '/h')).toBe('/b/mcp-jobs');
    expect(resolveStateDir(undefined, { XDG_STATE_HOME: '/c' }, '/h')).toBe('/c/mcp-jobs');
    expect(resolveStateDir(undefined, {}, '/h')).toBe('/h/.local/state/mcp-jobs');
    expect(problem(() => resolveStateDir(' ', {}, '/h'))).toMatch(/--state-dir' is empty/);
  });
});

function job(change?: Parameters<typeof applyChange>[1]): JobRecord {
  const now = new Date('2026-03-30T10:15:30.000Z');
  const record = createRecord({
    instance: 'default',
    serverUrl: 'http://127.0.0.1:1/mcp',
    tool: 'deploy',
    arguments: { version: '2.0' },
    redactedArguments: [],
    now,
  });
  return change === undefined ? record : applyChange(record, change, now).record;
}

describe('exit codes', () => {
  it('one per outcome', () => {
    const end = (record: JobRecord, how: 'terminal' | 'timeout' | 'interrupted' = 'terminal') =>
      exitForWait({ record, end: how, fromRecord: false });
    expect(end(job({ status: 'completed', result: { content: [] } }))).toBe(EXIT.completed);
    expect(end(job({ status: 'completed', result: { content: [], isError: true } }))).toBe(EXIT.failed);
    expect(end(job({ status: 'failed', error: { code: 'TASK_FAILED', message: 'x' } }))).toBe(EXIT.failed);
    expect(end(job({ status: 'canceled', cancelReason: 'user' }))).toBe(EXIT.canceled);
    expect(end(job({ status: 'canceled', cancelReason: 'timeout' }))).toBe(EXIT.timeout);
    expect(end(job({ status: 'canceled', cancelReason: 'signal' }))).toBe(EXIT.interrupted);
    expect(end(job({ status: 'running' }), 'timeout')).toBe(EXIT.timeout);
    expect(end(job({ status: 'running' }), 'interrupted')).toBe(EXIT.interrupted);
    const byError = Object.fromEntries(ERROR_CODES.map((code) => [code, exitForError(code)]));
    expect(byError).toMatchObject({
      INVALID_INPUT: 2,
      JOB_NOT_FOUND: 2,
      INPUT_REQUIRED: 5,
      SERVER_UNREACHABLE: 6,
      PROTOCOL_ERROR: 6,
      INTERRUPTED: 130,
    });
    expect(helpText([])).toMatch(/Exit codes:\n {2}0 {3}completed/);
  });
});

describe('rendering', () => {
  it('JSON in snake_case with the seed paths; human lines as the seed shows them', () => {
    const running = job({ status: 'running', remoteStatus: 'working', statusMessage: 'half\nway' });
    const data = jobJson(running);
    expect(Object.keys(data).every((k) => /^[a-z_]+$/.test(k))).toBe(true);
    expect(data).toMatchObject({ job_id: running.jobId, status: 'running', remote_status: 'working', remote: null });
    expect(listLines([running])[0]).toMatch(
      new RegExp(`^${running.jobId}  deploy  running  -  2026-03-30T10:15:30.000Z$`),
    );
    const lines = showLines(running);
    expect(lines[0]).toBe('status: running, remote status: working');
    expect(lines).toContain('status message: half\\nway');
    expect(JSON.parse(updateJson({ record: running, phase: 'change' }))).toMatchObject({
      event: 'job_update',
      phase: 'change',
      data: { job_id: running.jobId },
    });
  });
});
