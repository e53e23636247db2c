/**
 * A small schema builder with the part of zod's (v4 classic) API that the job record uses, so `record.ts` keeps its
 * zod-style definitions: `import { z } from './schema.js'`.
 *
 * Why it exists: every step, and the CLI for every record it lists, reads a job record first. Loading and
 * initialising zod (module init plus building the record schema) was the largest remaining start-up cost of a wait
 * that answers from a finished record. Measured (ncc bundles that parse one record, paired with `node` on an empty
 * file, CPU medians): 1.51x with zod, 1.10x with this builder; the built `wait` on a finished record went from 1.8x to
 * 1.4-1.5x, and parsing 1,000 records takes about half of zod's time. zod stays a dependency: the MCP client stack
 * uses it, in chunks loaded only when a step talks to a server.
 *
 * Semantics follow zod where a record can tell the difference (a differential test, `__tests__/unit/schema.test.ts`,
 * checks them against real zod): objects strip unknown keys; an optional key that is absent stays absent;
 * `.default()` fills a missing value without validating it; `z.iso.datetime` uses zod's regular expression;
 * `z.string().url()` accepts what `URL.canParse` accepts, trimmed and with tabs and newlines removed, as zod does.
 * Issues carry a path and a message; the first one is the first failing key in definition order, as in zod.
 */

type Path = (string | number)[];
export interface Issue {
  path: Path;
  message: string;
  code: string;
}
export type SafeParseResult<T> = { success: true; data: T } | { success: false; error: { issues: Issue[] } };
/** How an object key treats absence: required, `optional` (absent stays absent) or `defaulted` (filled in). */
type Presence = 'required' | 'optional' | 'defaulted';
/** Parses one value: returns what it becomes and adds its issues, with paths relative to the value. */
type Run = (value: unknown, issues: Issue[]) => unknown;
/** How a schema was built, as the zod call that builds it (`on` the schema it was called on): a test rebuilds it in zod. */
export interface Recipe {
  call: string;
  args: readonly unknown[];
  on?: Schema<unknown, Presence>;
}
function made<S extends Schema<unknown, Presence>>(
  schema: S,
  call: string,
  args: readonly unknown[],
  on?: Schema<unknown, Presence>,
): S {
  schema.recipe = { call, args, ...(on && { on }) };
  return schema;
}

const typeName = (value: unknown): string =>
  value === null ? 'null' : Array.isArray(value) ? 'array' : Number.isNaN(value) ? 'NaN' : typeof value;
const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** Puts `key` in front of the paths of the issues a child added (from index `from` on). */
function within(key: string | number, issues: Issue[], from: number): void {
  for (let i = from; i < issues.length; i++) issues[i]!.path.unshift(key);
}

function invalidType(expected: string, value: unknown, issues: Issue[]): void {
  issues.push({
    code: 'invalid_type',
    path: [],
    message: `Invalid input: expected ${expected}, received ${typeName(value)}`,
  });
}

export class Schema<T, P extends Presence = 'required'> {
  /** Type-level only: what a parse gives, and how an object key of this schema treats absence. */
  declare readonly _output: T;
  declare readonly _presence: P;
  recipe: Recipe = { call: 'unknown', args: [] };

  constructor(
    readonly run: Run,
    readonly presence: Presence = 'required',
    /** The literal values this schema accepts, when it is a literal or an enum (discriminated unions read them). */
    readonly values?: readonly unknown[],
  ) {}

  safeParse(input: unknown): SafeParseResult<T> {
    const issues: Issue[] = [];
    const data = this.run(input, issues) as T;
    return issues.length ? { success: false, error: { issues } } : { success: true, data };
  }

  parse(input: unknown): T {
    const parsed = this.safeParse(input);
    if (parsed.success) return parsed.data;
    const issue = parsed.error.issues[0]!;
    throw new Error(`${issue.path.length ? issue.path.join('.') : '(root)'}: ${issue.message}`);
  }

  optional(): Schema<T | undefined, 'optional'> {
    const { run: inner, presence, values } = this;
    const defaulted = presence === 'defaulted';
    const run: Run = (v, issues) => (v === undefined && !defaulted ? undefined : inner(v, issues));
    return made(
      new Schema(run, defaulted ? 'defaulted' : 'optional', values && [...values, undefined]),
      'optional',
      [],
      this,
    );
  }

  nullable(): Schema<T | null, P> {
    const { run: inner, presence, values } = this;
    const run: Run = (v, issues) => (v === null ? null : inner(v, issues));
    return made(new Schema(run, presence, values && [...values, null]), 'nullable', [], this);
  }

  default(value: Exclude<T, undefined>): Schema<Exclude<T, undefined>, 'defaulted'> {
    const { run: inner, values } = this;
    const run: Run = (v, issues) => {
      if (v === undefined) return value;
      const out = inner(v, issues);
      return out === undefined ? value : out;
    };
    return made(new Schema(run, 'defaulted', values), 'default', [value], this);
  }
}

/** A check after the type check: returns a message when the value fails. `abort` skips the checks after it. */
interface Check<T> {
  test: (value: T) => string | undefined;
  code: string;
  abort?: boolean;
  /** Replaces the value once it passed (zod's url check trims it). */
  transform?: (value: T) => T;
}

/** Strings and numbers: a type check, then checks in order; every method returns a new schema. */
class Checked<T> extends Schema<T> {
  constructor(
    readonly expected: string,
    readonly is: (value: unknown) => value is T,
    readonly checks: Check<T>[] = [],
  ) {
    super((v, issues) => {
      if (!is(v)) return invalidType(expected, v, issues);
      let value = v;
      for (const check of checks) {
        const message = check.test(value);
        if (message !== undefined) {
          issues.push({ code: check.code, path: [], message });
          if (check.abort) break;
        } else if (check.transform) value = check.transform(value);
      }
      return value;
    });
  }

  /** This schema with one more check. */
  with(check: Check<T>, call: string, args: readonly unknown[]): this {
    const Self = this.constructor as new (expected: string, is: Checked<T>['is'], checks: Check<T>[]) => this;
    return made(new Self(this.expected, this.is, [...this.checks, check]), call, args, this);
  }
}

class StringSchema extends Checked<string> {
  min(length: number): this {
    return this.with(
      {
        code: 'too_small',
        test: (s) => (s.length >= length ? undefined : `Too small: expected string to have >=${length} characters`),
      },
      'min',
      [length],
    );
  }
  max(length: number): this {
    return this.with(
      {
        code: 'too_big',
        test: (s) => (s.length <= length ? undefined : `Too big: expected string to have <=${length} characters`),
      },
      'max',
      [length],
    );
  }
  regex(pattern: RegExp): this {
    return this.with(
      {
        code: 'invalid_format',
        test: (s) => {
          pattern.lastIndex = 0;
          return pattern.test(s) ? undefined : `Invalid string: must match pattern ${pattern}`;
        },
      },
      'regex',
      [pattern],
    );
  }
  url(): this {
    return this.with(
      {
        code: 'invalid_format',
        test: (s) => (URL.canParse(s.trim()) ? undefined : 'Invalid URL'),
        transform: (s) => s.trim().replace(/[\t\n\r]/g, ''),
      },
      'url',
      [],
    );
  }
}

class NumberSchema extends Checked<number> {
  int(): this {
    return this.with(
      {
        code: 'invalid_type',
        abort: true,
        test: (n) =>
          !Number.isInteger(n)
            ? 'Invalid input: expected int, received number'
            : Number.isSafeInteger(n)
              ? undefined
              : 'Integers must be within the safe integer range.',
      },
      'int',
      [],
    );
  }
  min(limit: number): this {
    return this.with(
      {
        code: 'too_small',
        test: (n) => (n >= limit ? undefined : `Too small: expected number to be >=${limit}`),
      },
      'min',
      [limit],
    );
  }
  max(limit: number): this {
    return this.with(
      {
        code: 'too_big',
        test: (n) => (n <= limit ? undefined : `Too big: expected number to be <=${limit}`),
      },
      'max',
      [limit],
    );
  }
  positive(): this {
    return this.with(
      { code: 'too_small', test: (n) => (n > 0 ? undefined : 'Too small: expected number to be >0') },
      'positive',
      [],
    );
  }
  nonnegative(): this {
    return made(this.min(0), 'nonnegative', [], this);
  }
}

type AnySchema = Schema<unknown, Presence>;
type Shape = Record<string, AnySchema>;
type Flatten<T> = { [K in keyof T]: T[K] } & {};
type OptionalKeys<S extends Shape> = { [K in keyof S]: S[K]['_presence'] extends 'optional' ? K : never }[keyof S];
type ObjectOutput<S extends Shape> = Flatten<
  { [K in Exclude<keyof S, OptionalKeys<S>>]: S[K]['_output'] } & { [K in OptionalKeys<S>]?: S[K]['_output'] }
>;

class ObjectSchema<S extends Shape> extends Schema<ObjectOutput<S>> {
  constructor(readonly shape: S) {
    const keys = Object.keys(shape).filter((key) => key !== '__proto__');
    super((input, issues) => {
      if (!isObject(input)) return invalidType('object', input, issues);
      const out: Record<string, unknown> = {};
      for (const key of keys) {
        const field = shape[key]!;
        const present = key in input;
        if (!present && field.presence === 'optional') continue;
        const before = issues.length;
        const value = field.run(input[key], issues);
        within(key, issues, before);
        if (!present && field.presence === 'required') {
          if (issues.length === before) issues.push({ code: 'invalid_type', path: [key], message: 'Required' });
        } else if (present || value !== undefined) out[key] = value;
      }
      return out;
    });
  }

  extend<E extends Shape>(extra: E): ObjectSchema<Flatten<Omit<S, keyof E> & E>> {
    return made(
      new ObjectSchema({ ...this.shape, ...extra } as Flatten<Omit<S, keyof E> & E>),
      'extend',
      [extra],
      this,
    );
  }
}

type Output<S extends AnySchema> = S['_output'];

function record<K extends Schema<string, Presence>, V extends AnySchema>(
  keySchema: K,
  valueSchema: V,
): Schema<Record<Output<K>, Output<V>>> {
  return new Schema((input, issues) => {
    if (!isObject(input)) return invalidType('record', input, issues);
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(input)) {
      if (key === '__proto__') continue;
      const keyIssues: Issue[] = [];
      const outKey = keySchema.run(key, keyIssues) as string;
      if (keyIssues.length) issues.push({ code: 'invalid_key', path: [key], message: 'Invalid key in record' });
      else if (outKey !== '__proto__') {
        const before = issues.length;
        out[outKey] = valueSchema.run(input[key], issues);
        within(key, issues, before);
      }
    }
    return out;
  });
}

/** Arrays: every item checked, then `.min(n)` (zod's wording) once the items are read. */
class ArraySchema<V extends AnySchema> extends Schema<Output<V>[]> {
  constructor(
    readonly item: V,
    readonly minLength = 0,
  ) {
    super((input, issues) => {
      if (!Array.isArray(input)) return invalidType('array', input, issues);
      const out = input.map((value, i) => {
        const before = issues.length;
        const parsed = item.run(value, issues);
        within(i, issues, before);
        return parsed;
      });
      if (out.length < minLength) {
        issues.push({
          code: 'too_small',
          path: [],
          message: `Too small: expected array to have >=${minLength} items`,
        });
      }
      return out;
    });
  }

  min(length: number): ArraySchema<V> {
    return made(new ArraySchema(this.item, length), 'min', [length], this);
  }
}

function array<V extends AnySchema>(item: V): ArraySchema<V> {
  return new ArraySchema(item);
}

function oneOf<const T extends readonly (string | number | boolean | null)[]>(
  values: T,
  code: string,
): Schema<T[number]> {
  const list = values.map((v) => JSON.stringify(v)).join('|');
  return new Schema(
    (v, issues) => {
      if (!values.includes(v as T[number]))
        issues.push({ code, path: [], message: `Invalid option: expected one of ${list}` });
      return v;
    },
    'required',
    values,
  );
}

function union<const O extends readonly AnySchema[]>(options: O): Schema<Output<O[number]>> {
  return new Schema((input, issues) => {
    for (const option of options) {
      const own: Issue[] = [];
      const value = option.run(input, own);
      if (!own.length) return value;
    }
    issues.push({ code: 'invalid_union', path: [], message: 'Invalid input: matches none of the allowed forms' });
    return input;
  });
}

function discriminatedUnion<const O extends readonly ObjectSchema<Shape>[]>(
  discriminator: string,
  options: O,
): Schema<Output<O[number]>> {
  return new Schema((input, issues) => {
    if (!isObject(input)) return invalidType('object', input, issues);
    const option = options.find((o) => o.shape[discriminator]?.values?.includes(input[discriminator]));
    if (option) return option.run(input, issues);
    issues.push({
      code: 'invalid_union',
      path: [discriminator],
      message: 'Invalid input: no matching discriminator',
    });
    return input;
  });
}

/** zod's `z.iso.datetime` expression (zod/v4/core/regexes.js `datetime`), built the same way. */
function datetimeRegex(args: { offset?: boolean; local?: boolean; precision?: number | null }): RegExp {
  const date = `(?:(?:\\d\\d[2468][048]|\\d\\d[13579][26]|\\d\\d0[48]|[02468][048]00|[13579][26]00)-02-29|\\d{4}-(?:(?:0[13578]|1[02])-(?:0[1-9]|[12]\\d|3[01])|(?:0[469]|11)-(?:0[1-9]|[12]\\d|30)|(?:02)-(?:0[1-9]|1\\d|2[0-8])))`;
  const time = (precision: number | null | undefined, seconds: boolean): string => {
    const hhmm = `(?:[01]\\d|2[0-3]):[0-5]\\d`;
    if (typeof precision === 'number') {
      if (precision === -1) return hhmm;
      return precision === 0 ? `${hhmm}:[0-5]\\d` : `${hhmm}:[0-5]\\d\\.\\d{${precision}}`;
    }
    return seconds ? `${hhmm}:[0-5]\\d(?:\\.\\d+)?` : `${hhmm}(?::[0-5]\\d(?:\\.\\d+)?)?`;
  };
  const zones = ['Z', ...(args.offset ? [`([+-](?:[01]\\d|2[0-3]):[0-5]\\d)`] : [])];
  const qualified = `${time(args.precision, true)}(?:${zones.join('|')})`;
  const timeRegex = args.local ? `${qualified}|${time(args.precision, false)}` : qualified;
  return new RegExp(`^${date}T(?:${timeRegex})$`);
}

const string = (): StringSchema => new StringSchema('string', (v): v is string => typeof v === 'string');

/** zod's builders, each recording its call (see Recipe). */
export const z = {
  object: <S extends Shape>(shape: S): ObjectSchema<S> => made(new ObjectSchema(shape), 'object', [shape]),
  string: (): StringSchema => made(string(), 'string', []),
  number: (): NumberSchema =>
    made(new NumberSchema('number', (v): v is number => typeof v === 'number' && Number.isFinite(v)), 'number', []),
  boolean: (): Schema<boolean> =>
    made(new Schema((v, issues) => (typeof v === 'boolean' ? v : invalidType('boolean', v, issues))), 'boolean', []),
  unknown: (): Schema<unknown> => made(new Schema((v) => v), 'unknown', []),
  literal: <const T extends string | number | boolean | null>(value: T): Schema<T> =>
    made(oneOf([value] as const, 'invalid_value') as Schema<T>, 'literal', [value]),
  enum: <const T extends readonly [string, ...string[]]>(values: T): Schema<T[number]> =>
    made(oneOf(values, 'invalid_value'), 'enum', [values]),
  record: <K extends Schema<string, Presence>, V extends AnySchema>(key: K, value: V) =>
    made(record(key, value), 'record', [key, value]),
  array: <V extends AnySchema>(item: V) => made(array(item), 'array', [item]),
  union: <const O extends readonly AnySchema[]>(options: O) => made(union(options), 'union', [options]),
  discriminatedUnion: <const O extends readonly ObjectSchema<Shape>[]>(discriminator: string, options: O) =>
    made(discriminatedUnion(discriminator, options), 'discriminatedUnion', [discriminator, options]),
  iso: {
    datetime: (args: { offset?: boolean; local?: boolean; precision?: number | null } = {}): StringSchema => {
      const regex = datetimeRegex(args);
      const check: Check<string> = {
        code: 'invalid_format',
        test: (s) => (regex.test(s) ? undefined : 'Invalid ISO datetime'),
      };
      return made(string().with(check, 'regex', [regex]), 'iso.datetime', [args]);
    },
  },
};

/* eslint-disable @typescript-eslint/no-namespace -- type-only, merges with the value `z` as zod's namespace does */
export declare namespace z {
  type ZodType<T = unknown> = Schema<T, Presence>;
  type infer<S extends AnySchema> = S['_output'];
  type output<S extends AnySchema> = S['_output'];
}
