/**
 * src/core/schema.ts against real zod: a schema and its zod twin must accept and reject the same inputs, give
 * deep-equal data and blame the same path first. The twin of record.ts's `jobRecordSchema` is rebuilt from the calls
 * that built it (its recipe), so a field added to record.ts is covered without being written here again.
 */
import { describe, expect, it } from '@jest/globals';
import { z as zod } from 'zod';
import { z as ours, Schema } from '../../src/core/schema.js';
import { jobRecordSchema, type JobRecord } from '../../src/core/record.js';
import { endedJob, queuedJob, runningJob, sessionRef } from './fakes.js';

interface Parser {
  safeParse(input: unknown): { success: boolean; data?: unknown; error?: { issues: Array<{ path: unknown[] }> } };
}

/** The zod schema a schema.ts schema was built as: the same calls, replayed on zod from its recipe. */
function toZod(schema: Schema<unknown, any>): any {
  const convert = (arg: unknown): unknown =>
    arg instanceof Schema
      ? toZod(arg)
      : Array.isArray(arg)
        ? arg.map(convert)
        : arg !== null && typeof arg === 'object' && Object.values(arg).some((v) => v instanceof Schema)
          ? Object.fromEntries(Object.entries(arg).map(([k, v]) => [k, convert(v)]))
          : arg;
  const { call, args, on } = schema.recipe;
  const names = call.split('.');
  const target = on ? toZod(on) : names.slice(0, -1).reduce((node: any, name) => node[name], zod);
  return target[names[names.length - 1]!](...args.map(convert));
}

/** Every record shape the tests know, plus one with every optional field set. */
function corpus(): unknown[] {
  const full = {
    ...runningJob({ jobKey: 'nightly', deadline: '2025-06-01T13:00:00+02:00', requestedTtlMs: 60_000 }),
    github: { runId: '42', repository: 'o/r' },
    statusMessage: 'halfway',
    ttlMs: null,
    pollIntervalMs: 0,
    callSession: { ...sessionRef(), discover: { versions: ['2026-07-28'] } },
    pendingInput: { message: 'Which?', askedAt: '2025-06-01T12:00:03.5Z', delivered: false },
    resultRef: { bytes: 70_000, sha256: 'a'.repeat(64) },
    error: { code: 'TASK_FAILED', message: 'boom', data: { nested: [1, null, 'x'] } },
    cancelReason: 'timeout',
    progress: { progress: 40, total: 100, message: 'step 2', at: '2025-06-01T12:00:04Z' },
    serverTimes: { createdAt: '2025-06-01T12:00:00Z', lastUpdatedAt: '2025-06-01T12:00:05Z' },
  };
  // A plain call on a stdio server, owned by a job runner.
  const stdio = {
    ...runningJob(),
    server: { transport: 'stdio', command: ['npx', '-y', 'some-server'], cwd: '/work' },
    kind: 'call',
    runner: { workflowJob: '42/1/build', host: 'runner-1', socket: '/tmp/r.sock', pid: 4242 },
  };
  const { revision: _omitted, ...withoutRevision } = queuedJob();
  return [
    queuedJob(),
    runningJob(),
    endedJob('completed'),
    endedJob('failed'),
    endedJob('canceled'),
    full,
    withoutRevision,
    stdio,
  ];
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
const WRONG: unknown[] = ['', 'x', ' ', 0, -1, 1, 1.5, 2 ** 53, true, false, null, [], {}, ['x'], { a: 1 }];
const DATETIMES = [
  '2025-06-01T12:00:00Z',
  '2025-06-01T12:00:00.123Z',
  '2025-06-01T12:00:00.1234567+01:00',
  '2025-06-01T12:00:00+01:00',
  '2025-06-01T12:00:00-23:59',
  '2025-06-01T12:00:00+24:00',
  '2025-06-01T12:00:00+0100',
  '2025-06-01T12:00:00',
  '2025-06-01T12:00Z',
  '2025-06-01T12:00:60Z',
  '2025-06-01T24:00:00Z',
  '2025-06-01 12:00:00Z',
  '2025-06-01t12:00:00z',
  '2025-06-01T12:00:00.Z',
  '2024-02-29T00:00:00Z',
  '2025-02-29T00:00:00Z',
  '1900-02-29T00:00:00Z',
  '2000-02-29T00:00:00Z',
  '2025-04-31T00:00:00Z',
  '2025-13-01T00:00:00Z',
  '2025-06-01',
  ' 2025-06-01T12:00:00Z',
];
const URLS = [
  'http://mcp.test/mcp',
  'https://127.0.0.1:8080/a?b=c#d',
  '  http://mcp.test/mcp  ',
  'http://mcp.\ttest/m\ncp',
  'http:mcp.test',
  'mailto:x@y',
  'file:///etc/passwd',
  'not a url',
  '//mcp.test',
  'http://',
  'http://[::1]:3000/',
  'http://exa mple.com',
  '',
];
const HEX = [
  'a'.repeat(64),
  'A'.repeat(64),
  'a'.repeat(63),
  'a'.repeat(65),
  `${'a'.repeat(63)}g`,
  `${'a'.repeat(64)}\n`,
];
const JOB_IDS = [
  'job_abcdef',
  'job_abcde',
  'job_' + 'a'.repeat(64),
  'job_' + 'a'.repeat(65),
  'job_abc/def',
  'JOB_abcdef',
];

/** Each input once per mutation: every value removed, replaced by wrong ones, objects given an extra key. */
function* mutations(value: Json, at: (string | number)[] = []): Generator<[string, (root: Json) => Json]> {
  const edit = (fn: (parent: any, key: string | number) => void) => (root: Json) => {
    const copy = structuredClone(root);
    let parent: any = copy;
    for (const key of at.slice(0, -1)) parent = parent[key];
    fn(parent, at[at.length - 1]!);
    return copy;
  };
  if (at.length) {
    yield [`${at.join('.')} removed`, edit((p, k) => (Array.isArray(p) ? p.splice(k as number, 1) : delete p[k]))];
    for (const wrong of WRONG) yield [`${at.join('.')} = ${JSON.stringify(wrong)}`, edit((p, k) => (p[k] = wrong))];
  }
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) yield* mutations(value[i]!, [...at, i]);
  } else if (value !== null && typeof value === 'object') {
    const into = (root: Json): any => at.reduce((node: any, key) => node[key], root);
    yield [
      `${at.join('.') || '(root)'} + extra key`,
      (root) => ((c) => ((into(c).extra = { x: 1 }), c))(structuredClone(root)),
    ];
    for (const key of Object.keys(value)) yield* mutations(value[key]!, [...at, key]);
  }
}

function setAt(root: Json, path: (string | number)[], value: unknown): Json {
  const copy: any = structuredClone(root);
  let node = copy;
  for (const key of path.slice(0, -1)) node = node[key];
  node[path[path.length - 1]!] = value;
  return copy;
}

function verdict(parser: Parser, input: unknown) {
  const parsed = parser.safeParse(input);
  return parsed.success ? { ok: true, data: parsed.data } : { ok: false, path: parsed.error!.issues[0]!.path };
}

const reference: Parser = toZod(jobRecordSchema);
const candidates: Array<[string, Parser]> = [['record.ts', jobRecordSchema as unknown as Parser]];

/** The inputs on which a candidate disagrees with zod, described. */
function disagreements(inputs: Array<[string, unknown]>): string[] {
  const found: string[] = [];
  for (const [label, input] of inputs) {
    const expected = verdict(reference, input);
    for (const [name, parser] of candidates) {
      const actual = verdict(parser, input);
      try {
        expect(actual).toStrictEqual(expected);
      } catch {
        found.push(`${name}: ${label}: zod ${JSON.stringify(expected)} vs ${JSON.stringify(actual)}`);
      }
    }
  }
  return found;
}

describe('the record schema agrees with zod', () => {
  const records = corpus() as Json[];

  it('is rebuilt in zod with every field', () => {
    expect(Object.keys((reference as any).shape)).toEqual(Object.keys(jobRecordSchema.shape));
    expect(Object.keys((reference as any).shape.remote.unwrap().shape)).toContain('taskId');
  });

  it('accepts every valid record with the same data', () => {
    for (const record of records) expect(verdict(reference, record).ok).toBe(true);
    expect(disagreements(records.map((r, i) => [`record ${i}`, r]))).toEqual([]);
  });

  it.each(records.map((r, i) => [i, r] as [number, Json]))('on every mutation of record %i', (_i, record) => {
    const inputs = [...mutations(record)].map(([label, mutate]) => [label, mutate(record)] as [string, unknown]);
    expect(inputs.length).toBeGreaterThan(100);
    const rejected = inputs.filter(([, input]) => !verdict(reference, input).ok).length;
    expect(rejected).toBeGreaterThan(50);
    expect(disagreements(inputs)).toEqual([]);
  });

  it.each([
    ['createdAt', DATETIMES],
    ['events.0.at', DATETIMES],
    ['pendingInput.askedAt', DATETIMES],
    ['server.url', URLS],
    ['resultRef.sha256', HEX],
    ['jobId', JOB_IDS],
    ['resultRef.bytes', [0, 1, -0, -1, 0.5, 1e21, 2 ** 53 - 1, 2 ** 53]],
    ['revision', [0, 1, 2, -1, 1.5, 2 ** 53]],
    ['ttlMs', [null, 0, -1, 1.5]],
    ['arguments', [JSON.parse('{"__proto__": {"x": 1}, "b": 2}'), { constructor: 1 }]],
  ] as Array<[string, unknown[]]>)('on edge values of %s', (field, values) => {
    const full = records[5]!;
    const path = field.split('.').map((k) => (/^\d+$/.test(k) ? Number(k) : k));
    const inputs = values.map((v) => [`${field} = ${JSON.stringify(v)}`, setAt(full, path, v)] as [string, unknown]);
    expect(disagreements(inputs)).toEqual([]);
  });
});

describe('the rest of the builder agrees with zod', () => {
  /** A schema built with schema.ts and its zod twin. */
  const pairs = (build: (z: typeof ours) => Schema<unknown, any>): [Parser, Parser] => {
    const schema = build(ours);
    return [toZod(schema), schema as unknown as Parser];
  };
  it.each([
    ['boolean', pairs((z) => z.boolean()), [true, false, 0, 'true', null, undefined]],
    ['string max', pairs((z) => z.string().min(2).max(3)), ['', 'a', 'ab', 'abc', 'abcd', 3]],
    ['number min max', pairs((z) => z.number().min(-1).max(2.5)), [-1.5, -1, 0, 2.5, 3, NaN, Infinity, '1']],
    [
      'union',
      pairs((z) => z.union([z.string().min(1), z.number().int(), z.object({ a: z.string() })])),
      ['', 'x', 1, 1.5, { a: 'x', b: 1 }, { a: 1 }, null],
    ],
    [
      'discriminated union',
      pairs((z) =>
        z.discriminatedUnion('transport', [
          z.object({ transport: z.literal('streamable-http'), url: z.string().url() }),
          z.object({ transport: z.literal('stdio'), command: z.array(z.string()), cwd: z.string() }),
        ]),
      ),
      [
        { transport: 'streamable-http', url: 'http://a.test/', extra: 1 },
        { transport: 'streamable-http', url: 'nope' },
        { transport: 'stdio', command: ['node', 'server.js'], cwd: '/tmp' },
        { transport: 'stdio', command: 'node', cwd: '/tmp' },
        { transport: 'ws', url: 'ws://a.test/' },
        {},
        'stdio',
      ],
    ],
    [
      'default on nested optional',
      pairs((z) => z.object({ n: z.number().default(3).optional() })),
      [{}, { n: 1 }, { n: 'x' }],
    ],
    ['required unknown', pairs((z) => z.object({ u: z.unknown() })), [{}, { u: undefined }, { u: null }, { u: 1 }]],
    [
      'nullable enum',
      pairs((z) => z.object({ e: z.enum(['a', 'b']).nullable() })),
      [{ e: null }, { e: 'a' }, { e: 'c' }, {}],
    ],
  ] as Array<[string, [Parser, Parser], unknown[]]>)('%s', (_name, [reference, candidate], inputs) => {
    for (const input of inputs) expect(verdict(candidate, input)).toStrictEqual(verdict(reference, input));
  });
});

describe('types', () => {
  it('infer the same record type as before', () => {
    // Compile-time: a parsed record is a JobRecord and keeps optional keys optional.
    const parsed = ours.object({ a: ours.string(), b: ours.number().optional() }).parse({ a: 'x' });
    const record: JobRecord = queuedJob();
    const typed: { a: string; b?: number | undefined } = parsed;
    expect(typed).toStrictEqual({ a: 'x' });
    expect('deadline' in record).toBe(false);
  });
});
