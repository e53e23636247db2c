import { describe, expect, it } from '@jest/globals';
import {
  formatDuration,
  isJobId,
  LATEST,
  parseBoolean,
  parseDuration,
  parseHeaders,
  parseInstance,
  parseJobRef,
  parseJsonObject,
  parseList,
  parseRedactPaths,
  parseServerUrl,
  redactArguments,
  redactedValues,
  unmatchedRedactPaths,
  type JsonObject,
  type JsonValue,
} from '../../src/core/parse.js';
import { newJobId } from '../../src/core/record.js';
import { thrown } from './fakes.js';

const SECOND = 1_000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

describe('parseDuration', () => {
  it.each([
    ['90s', 90 * SECOND],
    ['15m', 15 * MINUTE],
    ['2h', 2 * HOUR],
    ['1h30m', HOUR + 30 * MINUTE],
    ['1m30s', MINUTE + 30 * SECOND],
    ['500ms', 500],
    ['1d', DAY],
    ['1.5h', 1.5 * HOUR],
    ['90 s', 90 * SECOND],
    ['  2m  ', 2 * MINUTE],
  ])('reads %j as milliseconds', (raw, ms) => {
    expect(parseDuration('poll-interval', raw)).toBe(ms);
  });

  it('counts a plain number in seconds by default', () => {
    expect(parseDuration('task-ttl', '45')).toBe(45 * SECOND);
    expect(parseDuration('task-ttl', '1.5')).toBe(1.5 * SECOND);
  });

  it('counts a plain number in minutes when the input is counted in minutes', () => {
    expect(parseDuration('timeout-minutes', '30', 'm')).toBe(30 * MINUTE);
    // A unit still wins over the plain unit.
    expect(parseDuration('timeout-minutes', '90s', 'm')).toBe(90 * SECOND);
  });

  it('treats an empty value as not given', () => {
    expect(parseDuration('task-ttl', '')).toBeUndefined();
    expect(parseDuration('task-ttl', '   ')).toBeUndefined();
  });

  it.each(['abc', '10x', '-5', '1h-', 'h', 's10', '1.2.3', '5 minutes', '1h 30m'])(
    'refuses %j, naming the input and the value',
    (raw) => {
      const error = thrown(() => parseDuration('poll-interval', raw));
      expect(error.code).toBe('INVALID_INPUT');
      expect(error.input).toBe('poll-interval');
      expect(error.message).toMatch(/^Input 'poll-interval' /);
      expect(error.message).toContain(`'${raw.trim()}'`);
    },
  );

  it('says which plain unit it expected', () => {
    expect(thrown(() => parseDuration('timeout-minutes', 'soon', 'm')).message).toContain('minutes');
    expect(thrown(() => parseDuration('poll-interval', 'soon')).message).toContain('seconds');
  });

  it.each(['0', '0s', '0m', '0.0'])('refuses the zero duration %j', (raw) => {
    const error = thrown(() => parseDuration('task-ttl', raw));
    expect(error.input).toBe('task-ttl');
    expect(error.message).toContain('positive');
  });

  it('accepts 31 days and refuses anything longer', () => {
    expect(parseDuration('task-ttl', '31d')).toBe(31 * DAY);
    const error = thrown(() => parseDuration('task-ttl', '32d'));
    expect(error.input).toBe('task-ttl');
    expect(error.message).toContain('31 days');
    expect(thrown(() => parseDuration('timeout-minutes', String(31 * 24 * 60 + 1), 'm')).input).toBe('timeout-minutes');
  });
});

describe('formatDuration', () => {
  it.each([
    [500, '500ms'],
    [4_200, '4.2s'],
    [3 * MINUTE + 5 * SECOND, '3m 5s'],
    [HOUR + 2 * MINUTE, '1h 2m'],
    [-5, '0ms'],
  ])('formats %d ms as %j', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });
});

describe('parseHeaders', () => {
  it('reads one header per line, skipping blank lines and comments', () => {
    const raw = [
      'Authorization: Bearer abc',
      '',
      '# a comment: with a colon',
      '   X-Trace-Id :  t-1  ',
      'X-Url: http://a.example:8080/x',
    ].join('\r\n');
    expect(parseHeaders('headers', raw)).toEqual({
      Authorization: 'Bearer abc',
      'X-Trace-Id': 't-1',
      'X-Url': 'http://a.example:8080/x',
    });
  });

  it('reads an empty value as no headers', () => {
    expect(parseHeaders('headers', '')).toEqual({});
    expect(parseHeaders('headers', '\n# only a comment\n')).toEqual({});
  });

  it('refuses a line without a colon, naming the input and the line but not its content', () => {
    const raw = 'Authorization: Bearer abc\n\n# note\nsk-live-SECRET-0042';
    const error = thrown(() => parseHeaders('headers', raw));
    expect(error.code).toBe('INVALID_INPUT');
    expect(error.input).toBe('headers');
    expect(error.message).toMatch(/^Input 'headers' /);
    expect(error.message).toContain('line 4');
    expect(error.message).not.toContain('SECRET');
    expect(error.message).not.toContain('Bearer abc');
  });

  it('refuses a line that starts with a colon without echoing the value', () => {
    const error = thrown(() => parseHeaders('headers', ': sk-live-SECRET-0042'));
    expect(error.message).toContain('line 1');
    expect(error.message).toContain("'Name: value'");
    expect(error.message).not.toContain('SECRET');
  });

  it.each([
    'Content-Type',
    'content-length',
    'Accept',
    'Host',
    'Connection',
    'Transfer-Encoding',
    'Mcp-Session-Id',
    'MCP-PROTOCOL-VERSION',
  ])('refuses the reserved header %s in any case', (name) => {
    const error = thrown(() => parseHeaders('headers', `X-Ok: 1\n${name}: value`));
    expect(error.input).toBe('headers');
    expect(error.message).toContain('line 2');
    expect(error.message).toContain(name);
  });

  it.each(['Bad Name: x', 'Bad(Name): x', 'Naïve: x', 'A"B: x'])('refuses the invalid header name in %j', (line) => {
    const error = thrown(() => parseHeaders('headers', `X-Ok: 1\n\n${line}`));
    expect(error.input).toBe('headers');
    expect(error.message).toContain('line 3');
    expect(error.message).toContain('invalid header name');
  });

  it.each(['X-Empty:', 'X-Empty:    '])('refuses the empty value in %j', (line) => {
    const error = thrown(() => parseHeaders('headers', line));
    expect(error.input).toBe('headers');
    expect(error.message).toContain('line 1');
    expect(error.message).toContain('empty value');
  });

  it('refuses a control character in a value without echoing the value', () => {
    const error = thrown(() => parseHeaders('headers', 'X-Key: sk-SECRET\0x'));
    expect(error.message).toContain('control character');
    expect(error.message).not.toContain('SECRET');
  });

  it.each([
    ['a NUL', '\0'],
    ['a bell', '\x07'],
    ['an escape', '\x1b[31m'],
    ['a vertical tab', '\v'],
    ['a lone carriage return', '\rmore'],
    ['DEL', '\x7f'],
    ['a C1 control', '\x85'],
  ])('refuses %s in a value, naming the header and the line but not the value', (_name, bad) => {
    const error = thrown(() => parseHeaders('headers', `X-Ok: fine\nX-Key: sk-SECRET${bad}tail`));
    expect(error.code).toBe('INVALID_INPUT');
    expect(error.input).toBe('headers');
    expect(error.message).toMatch(/^Input 'headers' line 2 has a control character in the value of 'X-Key'/);
    expect(error.message).not.toMatch(/SECRET|tail/);
  });

  it('allows a tab and Latin-1 text in a value', () => {
    expect(parseHeaders('headers', 'X-Note: caf\u00e9\tau lait \u00ff')).toEqual({
      'X-Note': 'caf\u00e9\tau lait \u00ff',
    });
  });

  it.each([
    ['a typographic quote', '\u201csk-SECRET\u201d'],
    ['an en dash', 'sk\u2013SECRET'],
    ['an emoji', 'sk-SECRET-\u{1f511}'],
    ['CJK text', '\u79d8\u5bc6sk-SECRET'],
  ])('refuses %s (beyond Latin-1, which fetch cannot send) without echoing the value', (_name, value) => {
    const error = thrown(() => parseHeaders('headers', `\n\nAuthorization: Bearer ${value}`));
    expect(error.input).toBe('headers');
    expect(error.message).toMatch(
      /^Input 'headers' line 3 has a character beyond Latin-1 in the value of 'Authorization'/,
    );
    expect(error.message).not.toContain('SECRET');
    expect(error.message).not.toContain(value);
  });
});

describe('parseServerUrl', () => {
  it.each(['https://mcp.example.com/mcp', 'http://localhost:3000/mcp', '  https://mcp.example.com/mcp?x=1  '])(
    'accepts %j',
    (raw) => {
      const url = parseServerUrl('server', raw);
      expect(url.href).toBe(new URL(raw.trim()).href);
    },
  );

  it('requires a value', () => {
    const error = thrown(() => parseServerUrl('server', '  '));
    expect(error.input).toBe('server');
    expect(error.message).toContain('required');
  });

  it.each([
    ['ftp://files.example.com/mcp', "'ftp:'"],
    ['file:///etc/passwd', "'file:'"],
    ['not a url', 'is not a valid URL'],
    ['mcp.example.com/mcp', 'is not a valid URL'],
  ])('refuses %j', (raw, mentioned) => {
    const error = thrown(() => parseServerUrl('server', raw));
    expect(error.code).toBe('INVALID_INPUT');
    expect(error.input).toBe('server');
    expect(error.message).toMatch(/^Input 'server' /);
    expect(error.message).toContain(mentioned);
  });

  it.each([
    'https://hunter2 x@mcp.example.com/mcp',
    'https://mcp.example.com:hunter2/mcp',
    'http://[hunter2]/mcp',
    'hunter2',
    'ann:hunter2@mcp.example.com',
    'ghp_hunter2:x@mcp.example.com/mcp',
  ])('never echoes a URL it refuses: %j', (raw) => {
    const error = thrown(() => parseServerUrl('server', raw));
    expect(error.input).toBe('server');
    expect(error.message).not.toContain('hunter2');
  });

  it('points at credentials when a URL without http:// looks like it holds some', () => {
    const error = thrown(() => parseServerUrl('server', 'ann:hunter2@mcp.example.com'));
    expect(error.message).toContain('http(s) URL');
    expect(error.message).toContain('credentials');
  });

  it.each(['https://user:hunter2@mcp.example.com/mcp', 'https://ghp_TOKEN@mcp.example.com/mcp'])(
    'refuses credentials in the URL %j without echoing them',
    (raw) => {
      const error = thrown(() => parseServerUrl('server', raw));
      expect(error.input).toBe('server');
      expect(error.message).toContain('credentials');
      expect(error.message).toContain('headers');
      expect(error.message).not.toContain('hunter2');
      expect(error.message).not.toContain('ghp_TOKEN');
    },
  );
});

describe('parseJsonObject', () => {
  it('reads a JSON object', () => {
    const value = { a: 1, b: { c: [1, 'two', null, true] } };
    expect(parseJsonObject('arguments', JSON.stringify(value))).toEqual(value);
  });

  it('reads an empty value as {}', () => {
    expect(parseJsonObject('arguments', '')).toEqual({});
    expect(parseJsonObject('arguments', ' \n ')).toEqual({});
  });

  it('refuses text that is not JSON', () => {
    const error = thrown(() => parseJsonObject('arguments', '{topic: tides}'));
    expect(error.code).toBe('INVALID_INPUT');
    expect(error.input).toBe('arguments');
    expect(error.message).toMatch(/^Input 'arguments' is not valid JSON/);
  });

  it.each([
    ['[1,2]', 'an array'],
    ['null', 'null'],
    ['42', 'number'],
    ['"text"', 'string'],
    ['true', 'boolean'],
  ])('refuses %s, saying what it is', (raw, kind) => {
    const error = thrown(() => parseJsonObject('arguments', raw));
    expect(error.input).toBe('arguments');
    expect(error.message).toBe(`Input 'arguments' must be a JSON object, not ${kind}`);
  });
});

describe('parseList', () => {
  it('splits on newlines and commas and drops blanks', () => {
    expect(parseList('token, auth.password\n\n  api_key ,,\n')).toEqual(['token', 'auth.password', 'api_key']);
    expect(parseList('')).toEqual([]);
  });
});

describe('redactArguments', () => {
  const args = (): JsonObject => ({
    topic: 'tides',
    token: 'sk-1',
    auth: { user: 'ann', password: 'pw-2', nested: { key: 'k-3' } },
    list: ['a', 'b'],
  });

  it('replaces top-level and dotted paths with ***', () => {
    const out = redactArguments(args(), ['token', 'auth.password', 'auth.nested.key']);
    expect(out).toEqual({
      topic: 'tides',
      token: '***',
      auth: { user: 'ann', password: '***', nested: { key: '***' } },
      list: ['a', 'b'],
    });
  });

  it('replaces a whole object when the path names one', () => {
    expect(redactArguments(args(), ['auth']).auth).toBe('***');
  });

  it('leaves the arguments as they are for paths that do not exist', () => {
    const out = redactArguments(args(), ['missing', 'auth.missing', 'token.deeper', 'list.0.x', 'auth.nested.key.x']);
    expect(out).toEqual(args());
  });

  it('never changes the original', () => {
    const original = args();
    const before = structuredClone(original);
    const out = redactArguments(original, ['token', 'auth.password']);
    expect(original).toEqual(before);
    expect(out).not.toBe(original);
    expect(out.auth).not.toBe(original.auth);
  });
});

describe('redact paths into arrays', () => {
  const args = (): JsonObject => ({
    items: [{ name: 'a', token: 'tok-1' }, { name: 'b', token: 'tok-2' }, { name: 'c' }],
    grid: [['g-1', 'g-2'], ['g-3']],
    keys: ['k-1', 'k-2'],
    byIndex: { '0': 'zero-key' },
    empty: [],
  });

  it('[] names every element, a number one element', () => {
    const out = redactArguments(args(), ['items[].token', 'keys.1', 'grid[].0']);
    expect(out.items).toEqual([{ name: 'a', token: '***' }, { name: 'b', token: '***' }, { name: 'c' }]);
    expect(out.keys).toEqual(['k-1', '***']);
    expect(out.grid).toEqual([['***', 'g-2'], ['***']]);
  });

  it('[] can end a path and repeat', () => {
    expect(redactArguments(args(), ['keys[]']).keys).toEqual(['***', '***']);
    expect(redactArguments(args(), ['grid[][]']).grid).toEqual([['***', '***'], ['***']]);
  });

  it('a number is a key of an object and an index of an array', () => {
    expect(redactArguments(args(), ['byIndex.0']).byIndex).toEqual({ '0': '***' });
    const [, second, third] = args().items as JsonValue[];
    expect(redactArguments(args(), ['items.0']).items).toEqual(['***', second, third]);
  });

  it('masks what the paths name, in arrays too', () => {
    expect(redactedValues(args(), ['items[].token', 'grid.1']).sort()).toEqual(['g-3', 'tok-1', 'tok-2']);
  });

  it('lists the paths that name nothing', () => {
    expect(
      unmatchedRedactPaths(args(), [
        'items[].token',
        'items[].secret',
        'items.3',
        'keys[].x',
        'empty[]',
        'byIndex[]',
        'missing',
        'keys.1',
      ]),
    ).toEqual(['items[].secret', 'items.3', 'keys[].x', 'empty[]', 'byIndex[]', 'missing']);
    expect(unmatchedRedactPaths(args(), [])).toEqual([]);
  });

  it('parses the list, and refuses a path it cannot read, naming it', () => {
    expect(parseRedactPaths('redact', 'token, items[].token\n grid[][] ,keys.0')).toEqual([
      'token',
      'items[].token',
      'grid[][]',
      'keys.0',
    ]);
    for (const [path, hint] of [
      ['items[0].token', 'items.0'],
      ['items[*]', 'takes nothing inside'],
      ['a..b', 'names separated by dots'],
      ['.a', 'names separated by dots'],
      ['a.', 'names separated by dots'],
      ['[]', 'names separated by dots'],
      ['a[]b', 'names separated by dots'],
      ['a]', 'names separated by dots'],
    ] as const) {
      const error = thrown(() => parseRedactPaths('redact', `ok, ${path}`));
      expect({
        path,
        input: error.input,
        named: error.message.includes(`'${path}'`),
        hint: error.message.includes(hint),
      }).toEqual({
        path,
        input: 'redact',
        named: true,
        hint: true,
      });
    }
  });
});

describe('redactedValues', () => {
  it('collects every string and number under the named paths', () => {
    const args: JsonObject = {
      token: 'sk-1',
      pin: 1234,
      auth: { password: 'pw-2', keys: ['k-3', { deep: 'k-4' }], on: true, none: null, empty: '' },
      public: 'visible',
    };
    expect(redactedValues(args, ['token', 'pin', 'auth']).sort()).toEqual(['1234', 'k-3', 'k-4', 'pw-2', 'sk-1']);
  });

  it('follows dotted paths and ignores missing ones', () => {
    const args: JsonObject = { auth: { password: 'pw-2', user: 'ann' }, token: 'sk-1' };
    expect(redactedValues(args, ['auth.password', 'auth.missing', 'missing.x', 'token.deeper'])).toEqual(['pw-2']);
  });
});

describe('parseJobRef', () => {
  it('accepts latest and job IDs (trimmed)', () => {
    expect(parseJobRef('job-id', LATEST)).toBe('latest');
    expect(parseJobRef('job-id', '  job_abc123  ')).toBe('job_abc123');
    const id = newJobId();
    expect(parseJobRef('job-id', id)).toBe(id);
  });

  it('requires a value', () => {
    const error = thrown(() => parseJobRef('job-id', ' '));
    expect(error.input).toBe('job-id');
    expect(error.message).toContain('required');
    expect(error.message).toContain(LATEST);
  });

  it.each(['../x', 'job_../../etc/passwd', 'job_abc/def', 'job_ab', 'JOB_abc123', 'abc123', 'job_abc 123', 'Latest'])(
    'refuses %j (IDs go into file names)',
    (raw) => {
      const error = thrown(() => parseJobRef('job-id', raw));
      expect(error.code).toBe('INVALID_INPUT');
      expect(error.input).toBe('job-id');
    },
  );

  it('isJobId agrees with it', () => {
    expect(isJobId(newJobId())).toBe(true);
    expect(isJobId('latest')).toBe(false);
    expect(isJobId('../job_abcdef')).toBe(false);
  });
});

describe('parseInstance', () => {
  it('defaults to "default"', () => {
    expect(parseInstance('instance', '')).toBe('default');
    expect(parseInstance('instance', '  ')).toBe('default');
  });

  it('accepts names of letters, digits, dots, underscores and dashes', () => {
    expect(parseInstance('instance', ' team-a.v2_x ')).toBe('team-a.v2_x');
    expect(parseInstance('instance', 'a'.repeat(64))).toBe('a'.repeat(64));
  });

  it.each(['../x', 'a/b', '.hidden', '-x', 'a..b', 'a b', 'a'.repeat(65), 'ä'])('refuses %j', (raw) => {
    const error = thrown(() => parseInstance('instance', raw));
    expect(error.code).toBe('INVALID_INPUT');
    expect(error.input).toBe('instance');
  });
});

describe('parseBoolean', () => {
  it.each(['true', 'True', 'TRUE', ' true '])('reads %j as true', (raw) => {
    expect(parseBoolean('fail-on-error', raw, false)).toBe(true);
  });

  it.each(['false', 'False', 'FALSE'])('reads %j as false', (raw) => {
    expect(parseBoolean('fail-on-error', raw, true)).toBe(false);
  });

  it('falls back when empty', () => {
    expect(parseBoolean('fail-on-error', '', true)).toBe(true);
    expect(parseBoolean('fail-on-error', '', false)).toBe(false);
  });

  it.each(['yes', '1', 'tRue', 'on'])('refuses %j, naming the input', (raw) => {
    const error = thrown(() => parseBoolean('cancel-on-timeout', raw, true));
    expect(error.input).toBe('cancel-on-timeout');
    expect(error.message).toContain(`'${raw}'`);
  });
});
