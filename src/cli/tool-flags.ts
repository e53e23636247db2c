/**
 * Tool flags: a tool's JSON Schema for its arguments turned into command-line flags, as the seed does it. Every
 * top-level property is a flag `--name` (and `--kebab-name` for a camelCase or snake_case name): strings as given,
 * numbers and integers parsed, booleans as `--flag` / `--no-flag` (or `--flag=true|false`), enums checked, arrays by
 * repeating the flag, objects as JSON. Pure: the schema is the server's (untrusted), so nothing of it is run.
 */
import { JobError } from '../core/errors.js';
import type { JsonObject, JsonValue } from '../core/parse.js';
import { inert } from '../core/text.js';

type Kind = 'string' | 'number' | 'integer' | 'boolean' | 'array' | 'object' | 'any';

export interface ToolFlag {
  /** The argument's name in the schema. */
  property: string;
  /** Every spelling of the flag, without the leading `--`. */
  names: string[];
  kind: Kind;
  /** The kind of each element, for an array. */
  items?: Kind;
  enum?: JsonValue[];
  required: boolean;
  description?: string;
}

function kindOf(schema: unknown): Kind {
  if (schema === null || typeof schema !== 'object') return 'any';
  const type = (schema as { type?: unknown }).type;
  const types = (Array.isArray(type) ? type : [type]).filter((t) => typeof t === 'string' && t !== 'null');
  const first = types[0];
  if (types.length === 1 && ['string', 'number', 'integer', 'boolean', 'array', 'object'].includes(first as string))
    return first as Kind;
  return 'any';
}

const kebab = (name: string): string =>
  name
    .replace(/([a-z0-9])([A-Z])/g, '$1-$2')
    .replace(/_/g, '-')
    .toLowerCase();

/** The flags of a tool, in the schema's order. */
export function toolFlags(inputSchema: JsonObject): ToolFlag[] {
  const properties = inputSchema.properties;
  if (properties === null || typeof properties !== 'object' || Array.isArray(properties)) return [];
  const required = new Set(Array.isArray(inputSchema.required) ? inputSchema.required.map(String) : []);
  return Object.entries(properties).map(([property, schema]) => {
    const kind = kindOf(schema);
    const s = (schema ?? {}) as { enum?: unknown; items?: unknown; description?: unknown };
    const names = [...new Set([property, kebab(property)])];
    return {
      property,
      names,
      kind,
      ...(kind === 'array' ? { items: kindOf(s.items) } : {}),
      ...(Array.isArray(s.enum) ? { enum: s.enum as JsonValue[] } : {}),
      required: required.has(property),
      ...(typeof s.description === 'string' ? { description: s.description } : {}),
    };
  });
}

function placeholder(flag: ToolFlag): string {
  if (flag.enum !== undefined) return flag.enum.map((v) => (typeof v === 'string' ? v : JSON.stringify(v))).join('|');
  if (flag.kind === 'array') return `${flag.items === 'any' ? 'value' : flag.items}...`;
  return flag.kind === 'any' ? 'value' : flag.kind === 'object' ? 'JSON' : flag.kind;
}

/** One line per flag: `--topic <string> (required)  What to research`. Server text made inert. */
export function describeFlags(flags: ToolFlag[]): string[] {
  return flags.map((flag) => {
    const name = inert(flag.names.at(-1)!);
    const spelled = flag.kind === 'boolean' ? `--${name}, --no-${name}` : `--${name} <${inert(placeholder(flag))}>`;
    const repeat = flag.kind === 'array' ? ' (repeatable)' : '';
    const required = flag.required ? ' (required)' : '';
    const about = flag.description === undefined ? '' : `  ${inert(flag.description).slice(0, 120)}`;
    return `${spelled}${repeat}${required}${about}`;
  });
}

function usage(tool: string, flags: ToolFlag[], problem: string): JobError {
  const known = describeFlags(flags);
  const list = known.length === 0 ? 'it takes no arguments' : `its flags:\n  ${known.join('\n  ')}`;
  return new JobError(
    'INVALID_INPUT',
    `${problem}. Tool '${inert(tool)}': ${list}\n(or give every argument at once with --args JSON)`,
    {
      input: 'tool flags',
    },
  );
}

function convert(tool: string, flags: ToolFlag[], flag: ToolFlag, kind: Kind, raw: string): JsonValue {
  const bad = (what: string): JobError =>
    usage(tool, flags, `Flag --${flag.names.at(-1)} ${what} (got '${inert(raw).slice(0, 80)}')`);
  let value: JsonValue;
  switch (kind) {
    case 'string':
      value = raw;
      break;
    case 'number':
    case 'integer': {
      const n = raw.trim() === '' ? Number.NaN : Number(raw);
      if (!Number.isFinite(n)) throw bad(`must be a number`);
      if (kind === 'integer' && !Number.isInteger(n)) throw bad('must be a whole number');
      value = n;
      break;
    }
    case 'boolean':
      if (raw !== 'true' && raw !== 'false') throw bad('must be true or false');
      value = raw === 'true';
      break;
    case 'object':
    case 'array':
    case 'any': {
      let parsed: unknown;
      try {
        parsed = JSON.parse(raw);
      } catch {
        if (kind === 'any') return raw;
        throw bad('must be JSON');
      }
      if (kind === 'object' && (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)))
        throw bad('must be a JSON object');
      if (kind === 'array' && !Array.isArray(parsed)) throw bad('must be a JSON array');
      value = parsed as JsonValue;
    }
  }
  if (
    flag.enum !== undefined &&
    kind !== 'array' &&
    !flag.enum.some((e) => JSON.stringify(e) === JSON.stringify(value))
  )
    throw bad(`must be one of ${flag.enum.map((e) => (typeof e === 'string' ? e : JSON.stringify(e))).join(', ')}`);
  return value;
}

/**
 * Parses a tool's flags into its arguments, on top of `base` (from `--args`; a flag wins over it). Every error is
 * INVALID_INPUT and lists the tool's flags. Required arguments must be given one way or the other.
 */
export function parseToolFlags(
  tool: string,
  inputSchema: JsonObject,
  argv: string[],
  base: JsonObject = {},
): JsonObject {
  const flags = toolFlags(inputSchema);
  const byName = new Map<string, ToolFlag>();
  for (const flag of flags) for (const name of flag.names) byName.set(name, flag);
  const out: JsonObject = { ...base };
  const repeated = new Set<string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith('--') || arg === '--')
      throw usage(tool, flags, `Unexpected argument '${inert(arg).slice(0, 80)}'`);
    const eq = arg.indexOf('=');
    const name = arg.slice(2, eq < 0 ? undefined : eq);
    const inline = eq < 0 ? undefined : arg.slice(eq + 1);
    const flag = byName.get(name);
    if (flag === undefined && name.startsWith('no-') && inline === undefined) {
      const negated = byName.get(name.slice(3));
      if (negated?.kind === 'boolean') {
        out[negated.property] = false;
        continue;
      }
    }
    if (flag === undefined) throw usage(tool, flags, `Unknown flag --${inert(name).slice(0, 80)}`);
    if (flag.kind === 'boolean' && inline === undefined) {
      out[flag.property] = true;
      continue;
    }
    const raw = inline ?? argv[++i];
    if (raw === undefined) throw usage(tool, flags, `Flag --${name} needs a value`);
    if (flag.kind === 'array') {
      // Repeating the flag adds elements; a JSON array given once is taken whole.
      const element = flag.items ?? 'any';
      let values: JsonValue[];
      if (raw.trim().startsWith('[') && element !== 'string') {
        values = convert(tool, flags, flag, 'array', raw) as JsonValue[];
      } else values = [convert(tool, flags, flag, element, raw)];
      const previous = repeated.has(flag.property) ? (out[flag.property] as JsonValue[]) : [];
      out[flag.property] = [...previous, ...values];
      repeated.add(flag.property);
      continue;
    }
    out[flag.property] = convert(tool, flags, flag, flag.kind, raw);
  }
  const missing = flags.filter((f) => f.required && !(f.property in out));
  if (missing.length > 0) {
    throw usage(tool, flags, `Missing required ${missing.map((f) => `--${f.names.at(-1)}`).join(', ')}`);
  }
  return out;
}
