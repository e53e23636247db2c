import { describe, expect, it } from '@jest/globals';
import { submitSettings } from '../../src/action/settings.js';
import { parseCommand } from '../../src/core/parse.js';
import { createRecord, parseRecord } from '../../src/core/record.js';
import { progressLine } from '../../src/core/commands/context.js';
import { inert } from '../../src/core/text.js';
import { masker, secretEnvValues } from '../../src/mcp/stdio.js';
import { FakeHost, thrown } from './fakes.js';

const RUNNER = { RUNNER_TEMP: '/runner/temp', GITHUB_WORKSPACE: '/work/repo' };

describe('parseCommand', () => {
  it('splits words like a shell: quotes and backslashes, nothing expanded', () => {
    expect(parseCommand('command', `npx -y "@scope/server two" it\\'s '$HOME' $HOME`)).toEqual([
      'npx',
      '-y',
      '@scope/server two',
      "it's",
      '$HOME',
      '$HOME',
    ]);
  });

  it.each([
    ['server | tee log', "the shell operator '|'"],
    ['server > out', "the shell operator '>'"],
    ['a && b', "the shell operator '&&'"],
    ['server *.json', 'a glob pattern'],
    ['server # note', 'a comment'],
  ])('refuses %s, naming the input', (text, what) => {
    const error = thrown(() => parseCommand('command', text));
    expect(error.input).toBe('command');
    expect(error.message).toContain(`Input 'command' contains ${what}`);
  });

  it('refuses an empty command line', () => {
    expect(thrown(() => parseCommand('command', '   ')).message).toMatch(/^Input 'command' is empty/);
  });
});

describe('submitSettings with command', () => {
  it('parses the command, the working directory (default: the workspace) and the fallback', () => {
    const settings = submitSettings(new FakeHost({ command: 'node server.js --stdio', tool: 't' }, RUNNER));
    expect(settings.stdio).toEqual({ command: ['node', 'server.js', '--stdio'], cwd: '/work/repo' });
    expect(settings.server).toBe('stdio: node server.js --stdio');
    expect(settings.fallback).toBe('background');
    const other = submitSettings(
      new FakeHost({ command: 'srv', tool: 't', 'working-directory': '/tmp/x', fallback: 'sync' }, RUNNER),
    );
    expect(other.stdio?.cwd).toBe('/tmp/x');
    expect(other.fallback).toBe('sync');
  });

  it.each([
    [{ tool: 't' }, 'server', /is required .*or input 'command'/],
    [{ tool: 't', server: 'https://x.test/mcp', command: 'srv' }, 'server', /and input 'command' are both given/],
    [{ tool: 't', command: 'srv', headers: 'A: b' }, 'headers', /headers are for HTTP servers/],
    [{ tool: 't', command: 'srv', fallback: 'later' }, 'fallback', /must be one of background, sync, error/],
    [{ tool: 't', server: 'https://x.test/mcp', 'working-directory': '/w' }, 'working-directory', /stdio server/],
    [{ tool: 't', command: 'srv', protocol: '2026-07-28' }, 'protocol', /Streamable HTTP only/],
  ])('refuses %j naming %s', (inputs, input, message) => {
    const error = thrown(() => submitSettings(new FakeHost(inputs, RUNNER)));
    expect(error.input).toBe(input);
    expect(error.message).toMatch(message);
  });
});

describe('records of stdio and plain-call jobs', () => {
  const now = new Date('2026-12-01T00:00:00Z');
  /** A record as written before stdio servers existed: an HTTP server, no kind, no runner. */
  const httpRecord = () =>
    createRecord({
      instance: 'default',
      serverUrl: 'https://x.test/mcp',
      tool: 't',
      arguments: {},
      redactedArguments: [],
      now,
    });
  it('round-trips a stdio server, the kind, the runner and the progress', () => {
    const record = {
      ...createRecord({
        instance: 'default',
        server: { transport: 'stdio', command: ['npx', '-y', 'srv'], cwd: '/work' },
        tool: 't',
        arguments: {},
        redactedArguments: [],
        now,
      }),
      kind: 'call' as const,
      runner: { workflowJob: '1/1/build', host: 'vm', socket: '/tmp/r.sock', pid: 42 },
      progress: { progress: 40, total: 100, message: 'half', at: now.toISOString() },
    };
    expect(parseRecord(JSON.stringify(record), 'r.json')).toEqual(record);
  });

  it('still reads records written before these fields existed', () => {
    const old = httpRecord();
    const parsed = parseRecord(JSON.stringify(old), 'r.json');
    expect(parsed.server).toEqual({ transport: 'streamable-http', url: 'https://x.test/mcp' });
    expect(parsed.kind).toBeUndefined();
  });

  it('refuses a stdio server without a command', () => {
    const record = httpRecord();
    const broken = { ...record, server: { transport: 'stdio', command: [], cwd: '/w' } };
    expect(() => parseRecord(JSON.stringify(broken), 'r.json')).toThrow(/server\.command/);
  });
});

describe('secrets of a stdio server environment', () => {
  it('masks values of variables whose names look secret, longest first', () => {
    const secrets = secretEnvValues({
      API_KEY: 'abcd1234',
      GITHUB_TOKEN: 'ghs_abcd1234xyz',
      PATH: '/usr/bin',
      X: 'ab',
      // Inputs, and values too plain to be secrets, are not masked (they would blank out every log line).
      'INPUT_JOB-KEY': 'deploy-production',
      FEATURE_KEY_ENABLED: 'true',
      CACHE_KEY_PORT: '8080',
    });
    expect(secrets).toEqual(['ghs_abcd1234xyz', 'abcd1234']);
    expect(masker(secrets)('token ghs_abcd1234xyz and abcd1234 on /usr/bin')).toBe('token *** and *** on /usr/bin');
  });
});

describe('progressLine', () => {
  it('shows progress/total and the server message made inert', () => {
    expect(progressLine('job_a', { progress: 40, total: 100, message: 'half ::warning::x' })).toBe(
      `job_a: progress 40/100: ${inert('half ::warning::x')}`,
    );
    // A message cannot start a line of its own (where a workflow command would be read).
    expect(progressLine('job_a', { progress: 1, message: 'a\n::warning::x' })).not.toContain('\n');
    expect(progressLine('job_a', { progress: 3 })).toBe('job_a: progress 3');
  });
});
