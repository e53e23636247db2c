/**
 * Pure parsers for everything a user writes in a workflow. Each one names the input it parses in its errors, so the
 * message the user sees says which line of their workflow to fix. Nothing here reads the environment.
 */
import { parse as splitShellWords } from 'shell-quote';
import { invalidInput } from './errors.js';

const UNIT_MS: Record<string, number> = {
  ms: 1,
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
};

/**
 * Parses a duration: `90s`, `15m`, `2h`, `1h30m`, `500ms`, or a plain number in `plainUnit` (seconds unless the input
 * is itself counted in another unit, like `timeout-minutes`). Returns milliseconds; an empty value is `undefined`.
 */
export function parseDuration(input: string, raw: string, plainUnit: 's' | 'm' = 's'): number | undefined {
  const value = raw.trim();
  if (value === '') return undefined;
  let ms: number;
  if (/^\d+(\.\d+)?$/.test(value)) {
    ms = Number(value) * UNIT_MS[plainUnit]!;
  } else {
    const parts = [...value.matchAll(/(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)/gy)];
    const consumed = parts.reduce((n, p) => n + p[0].length, 0);
    if (parts.length === 0 || consumed !== value.length) {
      throw invalidInput(
        input,
        `must be a duration like 90s, 15m, 2h or a plain number of ${plainUnit === 'm' ? 'minutes' : 'seconds'} (got '${value}')`,
      );
    }
    ms = parts.reduce((n, p) => n + Number(p[1]) * UNIT_MS[p[2]!]!, 0);
  }
  ms = Math.round(ms);
  if (!Number.isFinite(ms) || ms <= 0) {
    throw invalidInput(input, `must be a positive duration of at least 1ms (got '${value}')`);
  }
  if (ms > 31 * UNIT_MS.d!) {
    throw invalidInput(input, `must be at most 31 days (got '${value}')`);
  }
  return ms;
}

/** Formats milliseconds for people: `4.2s`, `3m 5s`, `1h 2m`. */
export function formatDuration(ms: number): string {
  if (ms < 1_000) return `${Math.max(0, Math.round(ms))}ms`;
  if (ms < 60_000) return `${(ms / 1_000).toFixed(1)}s`;
  const totalSeconds = Math.round(ms / 1_000);
  const h = Math.floor(totalSeconds / 3600);
  const m = Math.floor((totalSeconds % 3600) / 60);
  const s = totalSeconds % 60;
  return h > 0 ? `${h}h ${m}m` : `${m}m ${s}s`;
}

const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
/** Headers the transport owns: a user value would break the session or the protocol negotiation. */
const RESERVED_HEADERS = new Set([
  'mcp-session-id',
  'mcp-protocol-version',
  'content-type',
  'content-length',
  'accept',
  'host',
  'connection',
  'transfer-encoding',
]);

/**
 * Parses multi-line `Name: value` headers. Blank lines and lines starting with `#` are skipped. Errors name the line
 * number but never echo the line: it may hold a secret.
 */
export function parseHeaders(input: string, raw: string): Record<string, string> {
  const headers: Record<string, string> = {};
  raw.split(/\r?\n/).forEach((line, index) => {
    const trimmed = line.trim();
    if (trimmed === '' || trimmed.startsWith('#')) return;
    const colon = trimmed.indexOf(':');
    if (colon <= 0) {
      throw invalidInput(
        input,
        `line ${index + 1} is not of the form 'Name: value' (it has no header name before a colon)`,
      );
    }
    const name = trimmed.slice(0, colon).trim();
    const value = trimmed.slice(colon + 1).trim();
    if (!HEADER_NAME.test(name)) {
      // The text before the colon is not echoed either: a pasted token would be in it.
      throw invalidInput(
        input,
        `line ${index + 1} has an invalid header name (letters, digits and !#$%&'*+.^_\`|~- only)`,
      );
    }
    if (RESERVED_HEADERS.has(name.toLowerCase())) {
      throw invalidInput(input, `line ${index + 1} sets '${name}', which mcp-jobs manages itself`);
    }
    if (value === '') {
      throw invalidInput(input, `line ${index + 1} gives its header an empty value`);
    }
    // Found here rather than by fetch at request time, whose error is about a "ByteString". Neither says which
    // character it was: the value is a secret, and even one character of it is not for the log.
    // eslint-disable-next-line no-control-regex -- control characters are what this looks for
    if (/[\0-\x08\n-\x1f\x7f-\x9f]/.test(value)) {
      throw invalidInput(
        input,
        `line ${index + 1} has a control character in the value of '${name}' (only tab is allowed; the value is not shown)`,
      );
    }
    if (/[^\0-\xff]/u.test(value)) {
      throw invalidInput(
        input,
        `line ${index + 1} has a character beyond Latin-1 in the value of '${name}': HTTP sends header values as bytes (0-255), so encode it (percent- or base64-encoding), or look for a typographic quote or dash pasted into it (the value is not shown)`,
      );
    }
    headers[name] = value;
  });
  return headers;
}

const KNOWN_SCHEMES = new Set([
  'ftp:',
  'file:',
  'ws:',
  'wss:',
  'ssh:',
  'git:',
  'mailto:',
  'data:',
  'javascript:',
  'unix:',
]);

/**
 * Parses the server URL: http or https only, no credentials in the URL (they would end up in the job record). No error
 * quotes the URL: it may hold a password or token, and a URL that does not parse cannot be cut into safe parts.
 */
export function parseServerUrl(input: string, raw: string): URL {
  const value = raw.trim();
  if (value === '') throw invalidInput(input, 'is required (the MCP server URL)');
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw invalidInput(
      input,
      `is not a valid URL (expected an http(s) URL like https://mcp.example.com/mcp; the value is not shown, as it may hold a secret)`,
    );
  }
  if (url.username !== '' || url.password !== '') {
    throw invalidInput(
      input,
      'must not carry credentials (user:password@ before the host); pass them in the headers input instead (an Authorization header)',
    );
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    // Only a well-known scheme is named: in `user:token@host` (no http://) the "scheme" is the user name.
    const named = KNOWN_SCHEMES.has(url.protocol) ? `; '${url.protocol}' is not supported` : ' (it has another scheme)';
    const hint = value.includes('@') ? '; credentials (user:password@) are not allowed in it either' : '';
    throw invalidInput(input, `must be an http(s) URL${named}${hint}`);
  }
  return url;
}

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

/** Parses tool arguments: a JSON object (an empty value means `{}`). */
export function parseJsonObject(input: string, raw: string): JsonObject {
  const value = raw.trim();
  if (value === '') return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch (error) {
    // JSON.parse quotes the input in its message, and the input may hold a secret: report only where it broke.
    const at = /position (\d+)/.exec((error as Error).message)?.[1];
    throw invalidInput(input, `is not valid JSON${at === undefined ? '' : ` (error at character ${Number(at) + 1})`}`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    const kind = parsed === null ? 'null' : Array.isArray(parsed) ? 'an array' : typeof parsed;
    throw invalidInput(input, `must be a JSON object, not ${kind}`);
  }
  return parsed as JsonObject;
}

/** Splits a list input on newlines and commas, dropping blanks. */
export function parseList(raw: string): string[] {
  return raw
    .split(/[\n,]/)
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

/**
 * A `redact` path, one step per segment:
 * - `name`: the key `name` of an object (`auth.password`: key `password` inside key `auth`);
 * - a segment of digits, `items.0`: element 0 of an array (of an object, the key `0`);
 * - `[]` right after a segment, `items[]`: every element of an array (`items[].token`, `grid[][]`, `a[].b[].c`).
 * Keys cannot contain `.`, `[` or `]`. A path starts with an argument name.
 */
type PathStep = { key: string } | { each: true };

function pathSteps(path: string): PathStep[] | undefined {
  const steps: PathStep[] = [];
  for (const part of path.split('.')) {
    const match = /^([^[\]]+)((?:\[\])*)$/.exec(part);
    if (match === null) return undefined;
    steps.push({ key: match[1]! });
    for (let i = 0; i < match[2]!.length / 2; i++) steps.push({ each: true });
  }
  return steps;
}

/**
 * Parses the `redact` input: argument paths, comma or newline separated (syntax at `PathStep`). A path that cannot
 * be read is an error naming it: a typo must not leave a secret unredacted in silence.
 */
export function parseRedactPaths(input: string, raw: string): string[] {
  const paths = parseList(raw);
  for (const path of paths) {
    if (pathSteps(path) !== undefined) continue;
    const hint = /\[\d+\]/.test(path)
      ? `; write items.0 for one element of an array`
      : /\[[^\]]/.test(path)
        ? `; [] stands for every element of an array and takes nothing inside`
        : '';
    throw invalidInput(
      input,
      `has an unreadable path '${path}': use names separated by dots (auth.password), a number for one element of an array (items.0.token) and [] for every element (items[].token)${hint}`,
    );
  }
  return paths;
}

/** Where a path leads in `root`: each match as the container and the key or index to it. */
function locate(root: JsonObject, path: string): Array<{ parent: JsonObject | JsonValue[]; key: string | number }> {
  const steps = pathSteps(path);
  if (steps === undefined) return [];
  let here: Array<{ parent: JsonObject | JsonValue[]; key: string | number }> = [];
  let nodes: JsonValue[] = [root];
  for (const step of steps) {
    here = [];
    for (const node of nodes) {
      if (node === null || typeof node !== 'object') continue;
      if ('each' in step) {
        if (Array.isArray(node)) node.forEach((_v, i) => here.push({ parent: node, key: i }));
      } else if (Array.isArray(node)) {
        const index = /^\d+$/.test(step.key) ? Number(step.key) : -1;
        if (index >= 0 && index < node.length) here.push({ parent: node, key: index });
      } else if (Object.hasOwn(node, step.key)) {
        here.push({ parent: node, key: step.key });
      }
    }
    nodes = here.map(({ parent, key }) => (parent as Record<string | number, JsonValue>)[key]!);
  }
  return here;
}

/** Returns a copy of `args` with whatever each path (`token`, `auth.password`, `items[].key`) names replaced by `***`. */
export function redactArguments(args: JsonObject, paths: readonly string[]): JsonObject {
  const copy = structuredClone(args);
  for (const path of paths) {
    for (const { parent, key } of locate(copy, path)) (parent as Record<string | number, JsonValue>)[key] = '***';
  }
  return copy;
}

/** Every string and number inside what the paths name: they are masked in logs like header values. */
export function redactedValues(args: JsonObject, paths: readonly string[]): string[] {
  const found: string[] = [];
  const collect = (v: JsonValue | undefined): void => {
    if (typeof v === 'string' || typeof v === 'number') found.push(String(v));
    else if (Array.isArray(v)) v.forEach(collect);
    else if (v !== null && typeof v === 'object') Object.values(v).forEach(collect);
  };
  for (const path of paths) {
    for (const { parent, key } of locate(args, path)) collect((parent as Record<string | number, JsonValue>)[key]);
  }
  return found.filter((s) => s !== '');
}

/** The paths that name nothing in `args` (a typo, or an empty array under `[]`): the step warns about each. */
export function unmatchedRedactPaths(args: JsonObject, paths: readonly string[]): string[] {
  return paths.filter((path) => locate(args, path).length === 0);
}

/** An answer to a task's input request: an elicitation result. */
export interface InputResponse {
  action: 'accept' | 'decline' | 'cancel';
  content?: Record<string, string | number | boolean | string[]>;
}
/** Answers by input key; `*` answers any request (2025-11-25 elicitations have no key). */
export type InputResponses = Record<string, InputResponse>;

/**
 * Parses `input-responses`: a JSON object from input keys (or `*`) to elicitation results
 * (`{"action": "accept", "content": {...}}`); a plain object stands for `{"action": "accept", "content": it}`.
 */
export function parseInputResponses(input: string, raw: string): InputResponses | undefined {
  if (raw.trim() === '') return undefined;
  const parsed = parseJsonObject(input, raw);
  const out: InputResponses = {};
  for (const [key, value] of Object.entries(parsed)) {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      throw invalidInput(
        input,
        `must map each input key to an object (key '${key}' has ${Array.isArray(value) ? 'an array' : typeof value})`,
      );
    }
    const action = value.action;
    if (action === undefined) {
      out[key] = { action: 'accept', content: value as InputResponse['content'] };
    } else if (action === 'accept' || action === 'decline' || action === 'cancel') {
      const content = value.content;
      if (content !== undefined && (content === null || typeof content !== 'object' || Array.isArray(content))) {
        throw invalidInput(input, `key '${key}': content must be an object`);
      }
      out[key] = { action, ...(content === undefined ? {} : { content: content as InputResponse['content'] }) };
    } else {
      throw invalidInput(input, `key '${key}': action must be accept, decline or cancel (got '${String(action)}')`);
    }
  }
  return out;
}

const JOB_ID = /^job_[A-Za-z0-9_-]{6,64}$/;
export const LATEST = 'latest';

/** A job ID as given by a user: a `job_…` ID or `latest`. IDs go into file names, so nothing else is accepted. */
export function parseJobRef(input: string, raw: string): string {
  const value = raw.trim();
  if (value === '') throw invalidInput(input, `is required (a job ID from submit, or '${LATEST}')`);
  if (value === LATEST || JOB_ID.test(value)) return value;
  throw invalidInput(input, `must be a job ID like 'job_…' or '${LATEST}' (got '${value}')`);
}

export function isJobId(value: string): boolean {
  return JOB_ID.test(value);
}

const INSTANCE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export function parseInstance(input: string, raw: string): string {
  const value = raw.trim() === '' ? 'default' : raw.trim();
  if (!INSTANCE.test(value) || value.includes('..')) {
    throw invalidInput(
      input,
      `must be 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit (got '${value}')`,
    );
  }
  return value;
}

/** The strict booleans the runner itself accepts (as `core.getBooleanInput`), with a message naming the input. */
export function parseBoolean(input: string, raw: string, fallback: boolean): boolean {
  const value = raw.trim();
  if (value === '') return fallback;
  if (['true', 'True', 'TRUE'].includes(value)) return true;
  if (['false', 'False', 'FALSE'].includes(value)) return false;
  throw invalidInput(input, `must be true or false (got '${value}')`);
}

/**
 * Splits a stdio server's command line into argv the way a POSIX shell splits words (quotes, backslashes), without
 * a shell: nothing is expanded (`$HOME` stays as written) and shell operators (`|`, `&&`, `>`, `;`), globs and
 * comments are refused, as they would silently mean something else here. shell-quote does the splitting.
 */
export function parseCommand(input: string, value: string): string[] {
  const text = value.trim();
  if (text === '') throw invalidInput(input, 'is empty; give the command line of a stdio MCP server');
  let words: ReturnType<typeof splitShellWords>;
  try {
    // The env function keeps every `$NAME` as written: no expansion.
    words = splitShellWords(text, (name: string) => `$${name}`);
  } catch (error) {
    throw invalidInput(input, `cannot be split into words: ${(error as Error).message}`);
  }
  const argv: string[] = [];
  for (const word of words) {
    if (typeof word === 'string') {
      argv.push(word);
      continue;
    }
    const entry = word as { op?: string; pattern?: string; comment?: string };
    const what =
      entry.comment !== undefined
        ? `a comment ('#${entry.comment}')`
        : entry.op === 'glob'
          ? `a glob pattern ('${entry.pattern}'); quote it to pass it as written`
          : `the shell operator '${entry.op}'`;
    throw invalidInput(
      input,
      `contains ${what}: it runs as one program without a shell, so pipes, redirections, globs and command lists do not work (wrap them in a script, or quote the character)`,
    );
  }
  if (argv.length === 0 || argv[0] === '') throw invalidInput(input, 'names no program to run');
  return argv;
}
