import { describe, expect, it } from '@jest/globals';
import path from 'node:path';
import {
  callSettings,
  cancelSettings,
  commonSettings,
  ENTRY_INPUTS,
  reader,
  submitSettings,
  waitSettings,
  type Entry,
} from '../../src/action/settings.js';
import { FakeHost, thrown } from './fakes.js';

const RUNNER = { RUNNER_TEMP: '/runner/temp' };
const SUBMIT = { server: 'https://mcp.example.com/mcp', tool: 'research' };

describe('submitSettings', () => {
  it('parses every submit input', () => {
    const host = new FakeHost(
      {
        ...SUBMIT,
        headers: 'Authorization: Bearer sk-1\nX-Team: blue',
        arguments: '{"topic":"tides","token":"tok-2"}',
        redact: 'token',
        'task-ttl': '2h',
        'timeout-minutes': '30',
        instance: 'team-a',
        'state-dir': '/data/jobs',
      },
      RUNNER,
    );
    expect(submitSettings(host)).toEqual({
      server: 'https://mcp.example.com/mcp',
      tool: 'research',
      headers: { Authorization: 'Bearer sk-1', 'X-Team': 'blue' },
      arguments: { topic: 'tides', token: 'tok-2' },
      redact: ['token'],
      redactUnmatched: [],
      ttlMs: 2 * 3_600_000,
      timeoutMs: 30 * 60_000,
      instance: 'team-a',
      stateDir: '/data/jobs',
      store: 'auto',
      retentionDays: 1,
      reuseTerminal: false,
      protocol: 'auto',
      fallback: 'background',
    });
  });

  it('leaves optional durations out and defaults instance and state-dir', () => {
    const settings = submitSettings(new FakeHost(SUBMIT, RUNNER));
    expect(settings).toEqual({
      store: 'auto',
      retentionDays: 1,
      reuseTerminal: false,
      protocol: 'auto',
      fallback: 'background',
      server: 'https://mcp.example.com/mcp',
      tool: 'research',
      headers: {},
      arguments: {},
      redact: [],
      redactUnmatched: [],
      instance: 'default',
      stateDir: path.join('/runner/temp', 'mcp-jobs'),
    });
  });

  it('parses the store, retention and idempotency inputs', () => {
    const settings = submitSettings(
      new FakeHost(
        { ...SUBMIT, store: 'cache', 'retention-days': '90', 'job-key': 'nightly-1', 'reuse-terminal': 'true' },
        RUNNER,
      ),
    );
    expect(settings).toMatchObject({ store: 'cache', retentionDays: 90, jobKey: 'nightly-1', reuseTerminal: true });
    const key = 'k'.repeat(256);
    expect(submitSettings(new FakeHost({ ...SUBMIT, 'job-key': key }, RUNNER)).jobKey).toBe(key);
  });

  it('makes a relative state-dir absolute', () => {
    expect(submitSettings(new FakeHost({ ...SUBMIT, 'state-dir': 'rel/jobs' }, RUNNER)).stateDir).toBe(
      path.resolve('rel/jobs'),
    );
  });

  it('masks every header value', () => {
    const host = new FakeHost(
      { ...SUBMIT, headers: 'Authorization: Bearer sk-1\n# comment\n  X-Api-Key :  key-2  \nX-Url: http://a:1/b' },
      RUNNER,
    );
    submitSettings(host);
    expect(host.secrets).toEqual(expect.arrayContaining(['Bearer sk-1', 'key-2', 'http://a:1/b']));
  });

  it.each([
    ['a line without a colon', 'not a header line'],
    ['a reserved header', 'Content-Type: text/plain'],
    ['an invalid name', 'Bad Name: value-3'],
  ])('masks every header value even when a later line is %s', (_what, bad) => {
    const host = new FakeHost(
      { ...SUBMIT, headers: `Authorization: Bearer sk-1\nX-Api-Key: key-2\n${bad}\nX-Late: late-4` },
      RUNNER,
    );
    const error = thrown(() => submitSettings(host));
    expect(error.input).toBe('headers');
    expect(host.secrets).toEqual(expect.arrayContaining(['Bearer sk-1', 'key-2', 'late-4']));
  });

  it('masks the values of redacted arguments, top-level and nested', () => {
    const host = new FakeHost(
      {
        ...SUBMIT,
        arguments: JSON.stringify({ topic: 'tides', token: 'tok-1', auth: { password: 'pw-2', pins: [1234] } }),
        redact: 'token\nauth',
      },
      RUNNER,
    );
    const settings = submitSettings(host);
    expect(host.secrets).toEqual(expect.arrayContaining(['tok-1', 'pw-2', '1234']));
    expect(host.secrets).not.toContain('tides');
    // The real values go to the server; the job record redacts them at submit.
    expect(settings.arguments).toMatchObject({ token: 'tok-1' });
  });

  it('masks the query values of the server URL, and reports redact paths that name nothing', () => {
    const host = new FakeHost(
      {
        ...SUBMIT,
        server: 'https://mcp.example.com/mcp?token=s3cret-1&v=2',
        arguments: JSON.stringify({ items: [{ key: 'k-1' }, { key: 'k-2' }], auth: {} }),
        redact: 'items[].key, auth.password, items.5',
      },
      RUNNER,
    );
    const settings = submitSettings(host);
    expect(host.secrets).toEqual(expect.arrayContaining(['s3cret-1', 'token=s3cret-1', 'v=2', 'k-1', 'k-2']));
    // A short value is masked only as part of its pair: masking '2' would mask every 2 in the log.
    expect(host.secrets).not.toContain('2');
    expect(settings.redactUnmatched).toEqual(['auth.password', 'items.5']);
  });

  it('refuses a server URL with credentials, or one that does not parse, without echoing it', () => {
    for (const server of ['https://ann:hunter2@mcp.example.com/mcp', 'https://hunter2@[bad/mcp', 'ann:hunter2@host']) {
      const error = thrown(() => submitSettings(new FakeHost({ ...SUBMIT, server }, RUNNER)));
      expect({ input: error.input, leaked: error.message.includes('hunter2') }).toEqual({
        input: 'server',
        leaked: false,
      });
    }
  });

  it('refuses a redact path it cannot read, naming it', () => {
    const error = thrown(() => submitSettings(new FakeHost({ ...SUBMIT, redact: 'items[0].key' }, RUNNER)));
    expect(error.input).toBe('redact');
    expect(error.message).toContain("'items[0].key'");
    expect(error.message).toContain('items.0');
  });

  it.each([
    ['server', { tool: 'research' }],
    ['tool', { server: 'https://mcp.example.com/mcp' }],
  ])('refuses a missing %s, naming the input', (input, inputs) => {
    const error = thrown(() => submitSettings(new FakeHost(inputs, RUNNER)));
    expect(error.code).toBe('INVALID_INPUT');
    expect(error.input).toBe(input);
    expect(error.message).toMatch(new RegExp(`^Input '${input}' is required`));
  });

  it.each([
    ['server', { server: 'ftp://x/y' }],
    ['arguments', { arguments: '[1]' }],
    ['task-ttl', { 'task-ttl': 'soon' }],
    ['timeout-minutes', { 'timeout-minutes': '-1' }],
    ['instance', { instance: '../x' }],
    ['store', { store: 'redis' }],
    ['retention-days', { 'retention-days': '0' }],
    ['retention-days', { 'retention-days': '91' }],
    ['retention-days', { 'retention-days': '1.5' }],
    ['retention-days', { 'retention-days': 'week' }],
    ['job-key', { 'job-key': 'k'.repeat(257) }],
    ['reuse-terminal', { 'reuse-terminal': 'sometimes' }],
  ])('names the input %s when its value is invalid', (input, inputs) => {
    const error = thrown(() => submitSettings(new FakeHost({ ...SUBMIT, ...inputs }, RUNNER)));
    expect(error.input).toBe(input);
  });

  it('refuses an empty state-dir when RUNNER_TEMP is not set', () => {
    for (const env of [{}, { RUNNER_TEMP: '' }]) {
      const error = thrown(() => submitSettings(new FakeHost(SUBMIT, env)));
      expect(error.input).toBe('state-dir');
      expect(error.message).toContain('RUNNER_TEMP');
    }
    expect(submitSettings(new FakeHost({ ...SUBMIT, 'state-dir': '/given' }, {})).stateDir).toBe('/given');
  });

  it('trims every input', () => {
    const settings = submitSettings(
      new FakeHost({ server: '  https://mcp.example.com/mcp \n', tool: '  research  ', 'state-dir': ' /d ' }, RUNNER),
    );
    expect(settings.tool).toBe('research');
    expect(settings.stateDir).toBe('/d');
  });
});

describe('waitSettings', () => {
  it('parses the wait inputs with their defaults', () => {
    const settings = waitSettings(new FakeHost({ 'job-id': 'latest' }, RUNNER));
    expect(settings).toEqual({
      jobs: ['latest'],
      store: 'auto',
      retentionDays: 1,
      headers: {},
      instance: 'default',
      stateDir: path.join('/runner/temp', 'mcp-jobs'),
      cancelOnTimeout: true,
      failOnError: true,
    });
  });

  it('reads several jobs, in order, separated by commas or newlines', () => {
    const settings = waitSettings(new FakeHost({ 'job-id': 'job_cccccc, job_aaaaaa\n\njob_bbbbbb' }, RUNNER));
    expect(settings.jobs).toEqual(['job_cccccc', 'job_aaaaaa', 'job_bbbbbb']);
  });

  it.each([
    ['a job listed twice', 'job_aaaaaa, job_bbbbbb, job_aaaaaa'],
    ['one bad ID among good ones', 'job_aaaaaa, ../etc'],
    ['only separators', ' , \n ,'],
  ])('refuses %s, naming job-id', (_what, raw) => {
    const error = thrown(() => waitSettings(new FakeHost({ 'job-id': raw }, RUNNER)));
    expect(error.code).toBe('INVALID_INPUT');
    expect(error.input).toBe('job-id');
  });

  it('parses timeouts, the poll interval and booleans', () => {
    const settings = waitSettings(
      new FakeHost(
        {
          'job-id': 'job_abc123',
          'timeout-minutes': '90s',
          'poll-interval': '5',
          'cancel-on-timeout': 'false',
          'fail-on-error': 'FALSE',
        },
        RUNNER,
      ),
    );
    expect(settings).toMatchObject({
      jobs: ['job_abc123'],
      timeoutMs: 90_000,
      pollFloorMs: 5_000,
      cancelOnTimeout: false,
      failOnError: false,
    });
  });

  it('requires a job-id and masks headers before it complains', () => {
    const host = new FakeHost({ headers: 'Authorization: Bearer sk-1' }, RUNNER);
    const error = thrown(() => waitSettings(host));
    expect(error.input).toBe('job-id');
    expect(host.secrets).toContain('Bearer sk-1');
  });

  it('names cancel-on-timeout when it is not a boolean', () => {
    const error = thrown(() =>
      waitSettings(new FakeHost({ 'job-id': 'latest', 'cancel-on-timeout': 'maybe' }, RUNNER)),
    );
    expect(error.input).toBe('cancel-on-timeout');
  });
});

describe('cancelSettings', () => {
  it('parses the job and the reason', () => {
    expect(cancelSettings(new FakeHost({ 'job-id': 'job_abc123', reason: ' superseded ' }, RUNNER))).toMatchObject({
      job: 'job_abc123',
      reason: 'superseded',
    });
    expect('reason' in cancelSettings(new FakeHost({ 'job-id': 'latest' }, RUNNER))).toBe(false);
  });
});

describe('callSettings', () => {
  it('parses the submit inputs and the wait options together', () => {
    const settings = callSettings(
      new FakeHost({ ...SUBMIT, 'timeout-minutes': '10', 'cancel-on-timeout': 'false', 'poll-interval': '2s' }, RUNNER),
    );
    expect(settings).toMatchObject({
      server: 'https://mcp.example.com/mcp',
      tool: 'research',
      timeoutMs: 600_000,
      cancelOnTimeout: false,
      failOnError: true,
      pollFloorMs: 2_000,
    });
  });
});

describe('commonSettings', () => {
  it('reads only the shared inputs', () => {
    const host = new FakeHost({ headers: 'X-Key: k-1', 'job-id': 'not read' }, RUNNER);
    expect(commonSettings(host, 'wait')).toEqual({
      store: 'auto',
      retentionDays: 1,
      headers: { 'X-Key': 'k-1' },
      instance: 'default',
      stateDir: path.join('/runner/temp', 'mcp-jobs'),
    });
    expect(host.reads.sort()).toEqual(['headers', 'instance', 'retention-days', 'state-dir', 'store']);
    expect(host.secrets).toEqual(['k-1']);
  });
});

describe('reader', () => {
  it('reads a declared input, trimmed', () => {
    const read = reader(new FakeHost({ 'job-id': '  job_abc123 ' }), 'cancel');
    expect(read('job-id')).toBe('job_abc123');
  });

  it('refuses an input the entry does not declare', () => {
    const host = new FakeHost({ server: 'https://x' });
    const read = reader(host, 'cancel') as (name: string) => string;
    const error = thrown(() => read('server'));
    expect(error.code).toBe('INTERNAL');
    expect(error.message).toContain("'server'");
    expect(error.message).toContain('cancel');
    expect(host.reads).toEqual([]);
  });

  it('never reads an undeclared input in any parser', () => {
    const parsers: Array<[Entry, (host: FakeHost) => unknown]> = [
      ['submit', (host) => submitSettings(host)],
      ['wait', (host) => waitSettings(host)],
      ['cancel', (host) => cancelSettings(host)],
      ['call', (host) => callSettings(host)],
    ];
    for (const [entry, parse] of parsers) {
      const host = new FakeHost({ ...SUBMIT, 'job-id': 'latest' }, RUNNER);
      parse(host);
      const declared: readonly string[] = ENTRY_INPUTS[entry];
      expect(host.reads.filter((name) => !declared.includes(name))).toEqual([]);
    }
  });
});

describe('ENTRY_INPUTS', () => {
  it('lists each input once per entry, and the shared inputs everywhere', () => {
    for (const [entry, names] of Object.entries(ENTRY_INPUTS)) {
      expect(new Set(names).size).toBe(names.length);
      // setup only puts the CLI on PATH: it reads no job records.
      if (entry === 'setup') continue;
      expect(names).toEqual(expect.arrayContaining(['headers', 'instance', 'state-dir']));
    }
    expect(ENTRY_INPUTS.submit).not.toContain('job-id');
    expect(ENTRY_INPUTS.call).not.toContain('job-id');
    expect(ENTRY_INPUTS.wait).not.toContain('server');
    expect(ENTRY_INPUTS.cancel).not.toContain('timeout-minutes');
  });

  it('gives the root action (submit and wait in one step) the inputs of both, but no job-id', () => {
    const both = new Set<string>([...ENTRY_INPUTS.submit, ...ENTRY_INPUTS.wait.filter((name) => name !== 'job-id')]);
    expect([...ENTRY_INPUTS.call].sort()).toEqual([...both].sort());
  });
});
