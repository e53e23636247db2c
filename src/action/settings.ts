/**
 * Every input of every entry point, declared once and parsed once into typed settings. A step reads inputs only
 * through `reader()`, which refuses names its entry does not declare: the action.yml test holds these lists
 * against the action.yml files, so the code and the files cannot drift apart.
 */
import { join, resolve } from 'node:path';
import { invalidInput, JobError } from '../core/errors.js';
import {
  parseBoolean,
  parseCommand,
  parseDuration,
  parseHeaders,
  parseInstance,
  parseJobRef,
  parseJsonObject,
  parseList,
  parseInputResponses,
  parseRedactPaths,
  parseServerUrl,
  redactedValues,
  unmatchedRedactPaths,
  type InputResponses,
  type JsonObject,
} from '../core/parse.js';
import { FALLBACKS, PROTOCOL_CHOICES, type Fallback, type ProtocolChoice } from '../core/ports.js';
import { serverName } from '../core/record.js';
import { STORE_KINDS, type StoreKind } from '../store/select.js';
import type { ActionHost } from './host.js';
import { maskServerUrl } from './secrets.js';

const COMMON = ['headers', 'instance', 'state-dir', 'store', 'retention-days'] as const;
const SUBMIT = [
  'server',
  'command',
  'working-directory',
  'fallback',
  'tool',
  'arguments',
  'task-ttl',
  'timeout-minutes',
  'redact',
  'job-key',
  'reuse-terminal',
  'protocol',
  'input-responses',
  ...COMMON,
] as const;
const WAIT_OPTIONS = [
  'timeout-minutes',
  'cancel-on-timeout',
  'fail-on-error',
  'poll-interval',
  'input-responses',
] as const;

export const ENTRY_INPUTS = {
  submit: SUBMIT,
  wait: ['job-id', ...WAIT_OPTIONS, ...COMMON],
  cancel: ['job-id', 'reason', ...COMMON],
  show: ['job-id', ...COMMON],
  setup: [],
  /** The root action: submit and wait in one step. */
  call: [...new Set([...SUBMIT, ...WAIT_OPTIONS])],
} as const satisfies Record<string, readonly string[]>;

export type Entry = keyof typeof ENTRY_INPUTS;
type InputOf<E extends Entry> = (typeof ENTRY_INPUTS)[E][number];
export type InputReader<E extends Entry> = (name: InputOf<E>) => string;

export function reader<E extends Entry>(host: ActionHost, entry: E): InputReader<E> {
  const declared = new Set<string>(ENTRY_INPUTS[entry]);
  return (name) => {
    if (!declared.has(name))
      throw new JobError('INTERNAL', `The ${entry} step read input '${name}', which its action.yml does not declare`);
    return host.input(name).trim();
  };
}

export interface CommonSettings {
  headers: Record<string, string>;
  instance: string;
  stateDir: string;
  store: StoreKind;
  retentionDays: number;
}

export interface SubmitSettings extends CommonSettings {
  /** The server's URL; for a stdio server (`command`), its name in messages (`stdio: <command>`). */
  server: string;
  /** A stdio server: its argv (split like a shell, nothing expanded) and working directory. */
  stdio?: { command: string[]; cwd: string };
  /** What happens when the server or tool has no task support. */
  fallback: Fallback;
  tool: string;
  arguments: JsonObject;
  redact: string[];
  /** The `redact` paths that name nothing in the arguments: the step warns about each. */
  redactUnmatched: string[];
  ttlMs?: number;
  timeoutMs?: number;
  jobKey?: string;
  reuseTerminal: boolean;
  protocol: ProtocolChoice;
  /** Answers for questions the server asks while the call is being submitted. */
  inputResponses?: InputResponses;
}

export interface WaitOptions {
  inputResponses?: InputResponses;
  timeoutMs?: number;
  cancelOnTimeout: boolean;
  failOnError: boolean;
  pollFloorMs?: number;
}

export interface WaitSettings extends CommonSettings, WaitOptions {
  /** One or more job IDs (or `latest`), in the order given. */
  jobs: string[];
}

export interface CancelSettings extends CommonSettings {
  job: string;
  reason?: string;
}

export type CallSettings = SubmitSettings & WaitOptions;

export interface ShowSettings extends CommonSettings {
  /** One or more job IDs (or `latest`), in the order given. */
  jobs: string[];
}

/**
 * Parses the inputs every entry shares. Header values are masked before anything else can log them, even when a
 * later input turns out to be invalid.
 */
function common(read: (name: (typeof COMMON)[number]) => string, host: ActionHost): CommonSettings {
  const rawHeaders = read('headers');
  // Mask whatever follows a colon before parsing, so a malformed line cannot leak a value into an error.
  for (const line of rawHeaders.split(/\r?\n/)) {
    const value = line.slice(line.indexOf(':') + 1).trim();
    if (line.includes(':') && value !== '') host.setSecret(value);
  }
  const headers = parseHeaders('headers', rawHeaders);
  const instance = parseInstance('instance', read('instance'));
  let stateDir = read('state-dir');
  if (stateDir === '') {
    const runnerTemp = host.env('RUNNER_TEMP');
    if (runnerTemp === undefined || runnerTemp === '') {
      throw invalidInput('state-dir', 'is empty and RUNNER_TEMP is not set; give a directory for job records');
    }
    stateDir = join(runnerTemp, 'mcp-jobs');
  }
  const store = read('store') === '' ? 'auto' : read('store');
  if (!(STORE_KINDS as readonly string[]).includes(store)) {
    throw invalidInput('store', `must be one of ${STORE_KINDS.join(', ')} (got '${store}')`);
  }
  const rawRetention = read('retention-days');
  const retentionDays = rawRetention === '' ? 1 : Number(rawRetention);
  if (!Number.isInteger(retentionDays) || retentionDays < 1 || retentionDays > 90) {
    throw invalidInput('retention-days', `must be a whole number of days from 1 to 90 (got '${rawRetention}')`);
  }
  // Absolute: the cache store works in scratch directories of its own while a step runs.
  return { headers, instance, stateDir: resolve(stateDir), store: store as StoreKind, retentionDays };
}

/** The inputs every entry shares, alone (the post step needs only the headers to reach the server again). */
export function commonSettings(host: ActionHost, entry: Entry): CommonSettings {
  return common(reader(host, entry) as InputReader<'wait'>, host);
}

function required(read: (name: never) => string, name: string, what: string): string {
  const value = (read as (n: string) => string)(name);
  if (value === '') throw invalidInput(name, `is required (${what})`);
  return value;
}

export function submitSettings(host: ActionHost, entry: 'submit' | 'call' = 'submit'): SubmitSettings {
  const read = reader(host, entry) as InputReader<'submit'>;
  const shared = common(read, host);
  const rawServer = read('server');
  const rawCommand = read('command');
  if ((rawServer === '') === (rawCommand === '')) {
    throw invalidInput(
      'server',
      rawServer === ''
        ? "is required (the MCP server's Streamable HTTP URL), or input 'command' (the command line of a stdio MCP server): give exactly one of them"
        : "and input 'command' are both given; give exactly one: server (a Streamable HTTP URL) or command (the command line of a stdio MCP server)",
    );
  }
  let server: string;
  let stdio: { command: string[]; cwd: string } | undefined;
  if (rawCommand !== '') {
    if (shared.headers && Object.keys(shared.headers).length > 0) {
      throw invalidInput(
        'headers',
        "is given with input 'command': headers are for HTTP servers; a stdio server takes its keys from the step's env",
      );
    }
    const workspace = host.env('GITHUB_WORKSPACE');
    const dir = read('working-directory') || (workspace === undefined || workspace === '' ? process.cwd() : workspace);
    stdio = { command: parseCommand('command', rawCommand), cwd: resolve(dir) };
    server = serverName({ transport: 'stdio', ...stdio });
  } else {
    if (read('working-directory') !== '') {
      throw invalidInput(
        'working-directory',
        "is given with input 'server': it is where a stdio server (input 'command') starts",
      );
    }
    server = parseServerUrl('server', rawServer).toString();
    // Before anything can log the URL (an error naming the server, say): its query values may be keys.
    maskServerUrl(host, server);
  }
  const fallback = read('fallback') === '' ? 'background' : read('fallback');
  if (!(FALLBACKS as readonly string[]).includes(fallback)) {
    throw invalidInput('fallback', `must be one of ${FALLBACKS.join(', ')} (got '${fallback}')`);
  }
  const tool = required(read, 'tool', 'the name of the tool to call');
  const args = parseJsonObject('arguments', read('arguments'));
  const redact = parseRedactPaths('redact', read('redact'));
  for (const value of redactedValues(args, redact)) host.setSecret(value);
  const ttlMs = parseDuration('task-ttl', read('task-ttl'));
  const timeoutMs = parseDuration('timeout-minutes', read('timeout-minutes'), 'm');
  const jobKey = read('job-key');
  if (jobKey.length > 256) throw invalidInput('job-key', `must be at most 256 characters (got ${jobKey.length})`);
  const protocol = read('protocol') === '' ? 'auto' : read('protocol');
  if (!(PROTOCOL_CHOICES as readonly string[]).includes(protocol)) {
    throw invalidInput('protocol', `must be one of ${PROTOCOL_CHOICES.join(', ')} (got '${protocol}')`);
  }
  const inputResponses = parseInputResponses('input-responses', read('input-responses'));
  if (stdio !== undefined && protocol === '2026-07-28') {
    throw invalidInput(
      'protocol',
      "is 2026-07-28, which mcp-jobs speaks over Streamable HTTP only; a stdio server (input 'command') speaks 2025-11-25: use protocol: auto",
    );
  }
  return {
    ...shared,
    fallback: fallback as Fallback,
    ...(stdio === undefined ? {} : { stdio }),
    ...(inputResponses === undefined ? {} : { inputResponses }),
    protocol: protocol as ProtocolChoice,
    reuseTerminal: parseBoolean('reuse-terminal', read('reuse-terminal'), false),
    ...(jobKey === '' ? {} : { jobKey }),
    server,
    tool,
    arguments: args,
    redact,
    redactUnmatched: unmatchedRedactPaths(args, redact),
    ...(ttlMs === undefined ? {} : { ttlMs }),
    ...(timeoutMs === undefined ? {} : { timeoutMs }),
  };
}

function waitOptions(read: (name: (typeof WAIT_OPTIONS)[number]) => string): WaitOptions {
  const timeoutMs = parseDuration('timeout-minutes', read('timeout-minutes'), 'm');
  const pollFloorMs = parseDuration('poll-interval', read('poll-interval'));
  const inputResponses = parseInputResponses('input-responses', read('input-responses'));
  return {
    ...(inputResponses === undefined ? {} : { inputResponses }),
    cancelOnTimeout: parseBoolean('cancel-on-timeout', read('cancel-on-timeout'), true),
    failOnError: parseBoolean('fail-on-error', read('fail-on-error'), true),
    ...(timeoutMs === undefined ? {} : { timeoutMs }),
    ...(pollFloorMs === undefined ? {} : { pollFloorMs }),
  };
}

export function waitSettings(host: ActionHost): WaitSettings {
  const read = reader(host, 'wait');
  const shared = common(read, host);
  return { ...shared, jobs: jobList(read('job-id')), ...waitOptions(read) };
}

export function showSettings(host: ActionHost): ShowSettings {
  const read = reader(host, 'show');
  const shared = common(read, host);
  return { ...shared, jobs: jobList(read('job-id')) };
}

function jobList(raw: string): string[] {
  const jobs = parseList(raw).map((ref) => parseJobRef('job-id', ref));
  if (jobs.length === 0) parseJobRef('job-id', '');
  if (new Set(jobs).size !== jobs.length) throw invalidInput('job-id', 'lists the same job more than once');
  return jobs;
}

export function cancelSettings(host: ActionHost): CancelSettings {
  const read = reader(host, 'cancel');
  const shared = common(read, host);
  const reason = read('reason');
  return { ...shared, job: parseJobRef('job-id', read('job-id')), ...(reason === '' ? {} : { reason }) };
}

export function callSettings(host: ActionHost): CallSettings {
  return { ...submitSettings(host, 'call'), ...waitOptions(reader(host, 'call')) };
}
