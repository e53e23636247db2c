/**
 * The command line, parsed once into typed settings: the global options (which server, which store, how to print)
 * and one command with its own options. Pure: the environment comes in as a parameter. Server selection lives in
 * one place, `ServerSelection`: a new way to name a server (a stdio command) is one more variant here.
 */
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { invalidInput, JobError } from '../core/errors.js';
import {
  LATEST,
  parseCommand,
  parseDuration,
  parseHeaders,
  parseInputResponses,
  parseInstance,
  parseJobRef,
  parseJsonObject,
  parseServerUrl,
  type InputResponses,
  type JsonObject,
} from '../core/parse.js';
import { PROTOCOL_CHOICES, type ProtocolChoice } from '../core/ports.js';
import { serverName } from '../core/record.js';
import { JOB_STATUSES, type JobStatus } from '../core/status.js';
import { STORE_KINDS, type StoreKind } from '../store/select.js';

/** The server a command that submits talks to. (Jobs already submitted carry their own server in their record.) */
export interface ServerSelection {
  /** The server's URL; for a stdio server (`--command`), its name in messages (`stdio: <command>`). */
  url: string;
  headers: Record<string, string>;
  protocol: ProtocolChoice;
  /** A stdio server: its argv (split like a shell, nothing expanded), started in the current directory. */
  stdio?: { command: string[]; cwd: string };
}

export interface GlobalSettings {
  /** Set by `--server` or `--command`; commands that submit or list tools need it. */
  server?: ServerSelection;
  /** Header values (secrets) for every server contacted, also for jobs' own servers. Never stored. */
  headers: Record<string, string>;
  protocol: ProtocolChoice;
  instance: string;
  stateDir: string;
  store: StoreKind;
  json: boolean;
}

export type Command =
  | { name: 'help'; topic: string[] }
  | { name: 'version' }
  | { name: 'tools' }
  | {
      name: 'call';
      tool: string;
      /** The tool flags as given: parsed against the tool's input schema once it is known. */
      toolArgv: string[];
      args?: JsonObject;
      background: boolean;
      timeoutMs?: number;
      jobKey?: string;
    }
  | { name: 'list'; status?: JobStatus; limit?: number }
  | { name: 'show'; job: string }
  | {
      name: 'wait' | 'watch';
      job: string;
      timeoutMs?: number;
      cancelOnTimeout: boolean;
      inputResponses?: InputResponses;
    }
  | { name: 'cancel'; job: string; reason?: string }
  | { name: 'prune'; olderThanMs?: number; dryRun: boolean };

export interface Invocation {
  global: GlobalSettings;
  command: Command;
}

const GLOBAL_VALUE = new Set(['server', 'command', 'header', 'protocol', 'instance', 'state-dir', 'store']);
const GLOBAL_FLAG = new Set(['json', 'help', 'version']);

function usageError(message: string, input?: string): JobError {
  return new JobError('INVALID_INPUT', message, input === undefined ? {} : { input });
}

/**
 * Where records live: `--state-dir`, else MCP_JOBS_STATE_DIR, else on a GitHub runner `$RUNNER_TEMP/mcp-jobs` (the
 * directory the Action's steps use), else `$XDG_STATE_HOME/mcp-jobs`, else `~/.local/state/mcp-jobs`.
 */
export function resolveStateDir(flag: string | undefined, env: NodeJS.ProcessEnv, home = homedir()): string {
  const given = (v: string | undefined): v is string => v !== undefined && v.trim() !== '';
  if (flag !== undefined) {
    if (flag.trim() === '') throw invalidInput('--state-dir', 'is empty; give a directory for job records');
    return resolve(flag);
  }
  if (given(env.MCP_JOBS_STATE_DIR)) return resolve(env.MCP_JOBS_STATE_DIR);
  if (given(env.RUNNER_TEMP)) return resolve(env.RUNNER_TEMP, 'mcp-jobs');
  if (given(env.XDG_STATE_HOME)) return resolve(env.XDG_STATE_HOME, 'mcp-jobs');
  return join(home, '.local', 'state', 'mcp-jobs');
}

/** Splits argv into the global options and the rest (the command and its arguments). */
function splitGlobal(argv: string[]): { options: Map<string, string[]>; rest: string[] } {
  const options = new Map<string, string[]>();
  let i = 0;
  for (; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith('--')) break;
    const eq = arg.indexOf('=');
    const name = arg.slice(2, eq < 0 ? undefined : eq);
    if (GLOBAL_FLAG.has(name)) {
      if (eq >= 0) throw usageError(`Option --${name} takes no value`, `--${name}`);
      options.set(name, ['true']);
      continue;
    }
    if (!GLOBAL_VALUE.has(name)) {
      throw usageError(
        `Unknown global option '${arg.slice(0, eq < 0 ? undefined : eq).slice(0, 60)}' (global options, before the command: --server URL, --command "CMDLINE", --header "Name: value", --protocol, --instance NAME, --state-dir DIR, --store KIND, --json); see mcp-jobs --help`,
        arg,
      );
    }
    const value = eq >= 0 ? arg.slice(eq + 1) : argv[++i];
    if (value === undefined) throw usageError(`Option --${name} needs a value`, `--${name}`);
    options.set(name, [...(options.get(name) ?? []), value]);
  }
  return { options, rest: argv.slice(i) };
}

function single(options: Map<string, string[]>, name: string): string | undefined {
  const values = options.get(name);
  if (values !== undefined && values.length > 1)
    throw usageError(`Option --${name} is given more than once`, `--${name}`);
  return values?.[0];
}

export function parseGlobal(
  options: Map<string, string[]>,
  env: NodeJS.ProcessEnv,
  cwd: string = process.cwd(),
): GlobalSettings {
  // Each --header is one `Name: value` line; parseHeaders never echoes a value in its errors.
  const headers = parseHeaders('--header', (options.get('header') ?? []).join('\n'));
  const protocol = single(options, 'protocol') ?? 'auto';
  if (!(PROTOCOL_CHOICES as readonly string[]).includes(protocol)) {
    throw invalidInput('--protocol', `must be one of ${PROTOCOL_CHOICES.join(', ')} (got '${protocol.slice(0, 40)}')`);
  }
  const store = single(options, 'store') ?? 'local';
  if (!(STORE_KINDS as readonly string[]).includes(store)) {
    throw invalidInput('--store', `must be one of ${STORE_KINDS.join(', ')} (got '${store.slice(0, 40)}')`);
  }
  const rawServer = single(options, 'server');
  const rawCommand = single(options, 'command');
  let server: ServerSelection | undefined;
  if (rawServer !== undefined && rawCommand !== undefined) {
    throw invalidInput(
      '--command',
      'and --server are both given; give exactly one: --server (a Streamable HTTP URL) or --command (the command line of a stdio MCP server)',
    );
  }
  if (rawCommand !== undefined) {
    if (Object.keys(headers).length > 0) {
      throw invalidInput(
        '--header',
        'is given with --command: headers are for HTTP servers; a stdio server takes its keys from the environment',
      );
    }
    if (protocol === '2026-07-28') {
      throw invalidInput(
        '--protocol',
        'is 2026-07-28, which mcp-jobs speaks over Streamable HTTP only; a stdio server (--command) speaks 2025-11-25',
      );
    }
    const stdio = { command: parseCommand('--command', rawCommand), cwd };
    server = { url: serverName({ transport: 'stdio', ...stdio }), headers: {}, protocol: 'auto', stdio };
  } else if (rawServer !== undefined) {
    server = { url: parseServerUrl('--server', rawServer).toString(), headers, protocol: protocol as ProtocolChoice };
  }
  return {
    ...(server === undefined ? {} : { server }),
    headers,
    protocol: protocol as ProtocolChoice,
    instance: parseInstance('--instance', single(options, 'instance') ?? env.MCP_JOBS_INSTANCE ?? ''),
    stateDir: resolveStateDir(single(options, 'state-dir'), env),
    store: store as StoreKind,
    json: options.has('json'),
  };
}

type Spec = Record<string, { type: 'string' | 'boolean'; multiple?: boolean }>;

/** A command's own options, strictly: an unknown option or a stray argument is a usage error naming the command. */
function commandOptions(
  command: string,
  args: string[],
  spec: Spec,
  positionals: number,
): { values: Record<string, string | boolean | undefined>; positionals: string[] } {
  let parsed;
  try {
    parsed = parseArgs({ args, options: { ...spec, help: { type: 'boolean' } }, allowPositionals: true, strict: true });
  } catch (error) {
    const message = (error as Error).message.replace(/\. To specify a positional argument.*$/s, '');
    throw usageError(`mcp-jobs ${command}: ${message}; see mcp-jobs ${command} --help`);
  }
  if (parsed.positionals.length > positionals) {
    throw usageError(
      `mcp-jobs ${command}: unexpected argument '${parsed.positionals[positionals]!.slice(0, 60)}'; see mcp-jobs ${command} --help`,
    );
  }
  return { values: parsed.values as Record<string, string | boolean | undefined>, positionals: parsed.positionals };
}

/** A job named by ID or `--latest` (exactly one of them). */
function jobRef(command: string, positionals: string[], latest: boolean): string {
  const [id] = positionals;
  if (latest && id !== undefined) throw usageError(`mcp-jobs ${command}: give a job ID or --latest, not both`);
  if (latest) return LATEST;
  if (id === undefined) throw usageError(`mcp-jobs ${command}: which job? Give a job ID (job_…) or --latest`, 'job');
  return parseJobRef('job ID', id);
}

const str = (v: string | boolean | undefined): string | undefined => (typeof v === 'string' ? v : undefined);

function parseLimit(raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!/^\d+$/.test(raw) || !Number.isSafeInteger(n) || n < 1) {
    throw invalidInput('--limit', `must be a whole number of at least 1 (got '${raw.slice(0, 40)}')`);
  }
  return n;
}

function parseJobsCommand(sub: string | undefined, args: string[]): Command {
  const waitSpec: Spec = {
    latest: { type: 'boolean' },
    timeout: { type: 'string' },
    'no-cancel-on-timeout': { type: 'boolean' },
    'input-responses': { type: 'string' },
  };
  switch (sub) {
    case 'list': {
      const { values } = commandOptions(
        'jobs list',
        args,
        { status: { type: 'string' }, limit: { type: 'string' } },
        0,
      );
      const status = str(values.status);
      if (status !== undefined && !(JOB_STATUSES as readonly string[]).includes(status)) {
        throw invalidInput('--status', `must be one of ${JOB_STATUSES.join(', ')} (got '${status.slice(0, 40)}')`);
      }
      const limit = parseLimit(str(values.limit));
      return {
        name: 'list',
        ...(status === undefined ? {} : { status: status as JobStatus }),
        ...(limit === undefined ? {} : { limit }),
      };
    }
    case 'show': {
      const { values, positionals } = commandOptions('jobs show', args, { latest: { type: 'boolean' } }, 1);
      return { name: 'show', job: jobRef('jobs show', positionals, values.latest === true) };
    }
    case 'wait':
    case 'watch': {
      const { values, positionals } = commandOptions(`jobs ${sub}`, args, waitSpec, 1);
      const timeoutMs = parseDuration('--timeout', str(values.timeout) ?? '');
      const inputResponses = parseInputResponses('--input-responses', str(values['input-responses']) ?? '');
      return {
        name: sub,
        job: jobRef(`jobs ${sub}`, positionals, values.latest === true),
        cancelOnTimeout: values['no-cancel-on-timeout'] !== true,
        ...(timeoutMs === undefined ? {} : { timeoutMs }),
        ...(inputResponses === undefined ? {} : { inputResponses }),
      };
    }
    case 'cancel': {
      const { values, positionals } = commandOptions(
        'jobs cancel',
        args,
        { latest: { type: 'boolean' }, reason: { type: 'string' } },
        1,
      );
      const reason = str(values.reason);
      return {
        name: 'cancel',
        job: jobRef('jobs cancel', positionals, values.latest === true),
        ...(reason ? { reason } : {}),
      };
    }
    case 'prune': {
      const { values } = commandOptions(
        'jobs prune',
        args,
        { 'older-than': { type: 'string' }, 'dry-run': { type: 'boolean' } },
        0,
      );
      const olderThanMs = parseDuration('--older-than', str(values['older-than']) ?? '');
      return {
        name: 'prune',
        dryRun: values['dry-run'] === true,
        ...(olderThanMs === undefined ? {} : { olderThanMs }),
      };
    }
    case undefined:
      throw usageError('mcp-jobs jobs: which one? list, show, wait, cancel, watch or prune; see mcp-jobs jobs --help');
    default:
      throw usageError(
        `mcp-jobs jobs: unknown command '${sub.slice(0, 40)}' (known: list, show, wait, cancel, watch, prune); see mcp-jobs jobs --help`,
      );
  }
}

/** `call TOOL [tool flags] [--args JSON] [--background] [--timeout DUR] [--job-key K]`: our options are taken out. */
function parseCall(args: string[]): Command {
  const [tool, ...rest] = args;
  if (tool === undefined || tool.startsWith('--')) {
    throw usageError('mcp-jobs call: which tool? mcp-jobs call TOOL [tool flags]; mcp-jobs tools lists them', 'tool');
  }
  const toolArgv: string[] = [];
  let argsJson: string | undefined;
  let background = false;
  let timeout: string | undefined;
  let jobKey: string | undefined;
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i]!;
    const eq = arg.indexOf('=');
    const name = arg.startsWith('--') ? arg.slice(2, eq < 0 ? undefined : eq) : '';
    const value = (): string => {
      const v = eq >= 0 ? arg.slice(eq + 1) : rest[++i];
      if (v === undefined) throw usageError(`mcp-jobs call: option --${name} needs a value`, `--${name}`);
      return v;
    };
    if (name === 'args') argsJson = value();
    else if (name === 'background' && eq < 0) background = true;
    else if (name === 'timeout') timeout = value();
    else if (name === 'job-key') jobKey = value();
    else toolArgv.push(arg);
  }
  const timeoutMs = parseDuration('--timeout', timeout ?? '');
  if (jobKey !== undefined && (jobKey === '' || jobKey.length > 256)) {
    throw invalidInput('--job-key', `must be 1 to 256 characters (got ${jobKey.length})`);
  }
  return {
    name: 'call',
    tool,
    toolArgv,
    background,
    ...(argsJson === undefined ? {} : { args: parseJsonObject('--args', argsJson) }),
    ...(timeoutMs === undefined ? {} : { timeoutMs }),
    ...(jobKey === undefined ? {} : { jobKey }),
  };
}

/** Parses the whole command line. `--help` anywhere among a command's own options asks for that command's help. */
export function parseInvocation(argv: string[], env: NodeJS.ProcessEnv): Invocation {
  const { options, rest } = splitGlobal(argv);
  const [first, second, ...more] = rest;
  const wantsHelp = options.has('help') || first === 'help';
  if (
    wantsHelp ||
    (first !== 'call' && rest.includes('--help')) ||
    (first === 'call' && rest.slice(0, 2).includes('--help'))
  ) {
    const topic = (first === 'help' ? rest.slice(1) : rest).filter((a) => !a.startsWith('--')).slice(0, 2);
    return { global: helpGlobal(options), command: { name: 'help', topic } };
  }
  if (options.has('version') && first === undefined)
    return { global: helpGlobal(options), command: { name: 'version' } };
  const global = parseGlobal(options, env);
  switch (first) {
    case undefined:
      throw usageError('mcp-jobs: which command? tools, call or jobs; see mcp-jobs --help');
    case 'tools':
      commandOptions('tools', rest.slice(1), {}, 0);
      return { global, command: { name: 'tools' } };
    case 'call':
      return { global, command: parseCall(rest.slice(1)) };
    case 'jobs':
      return { global, command: parseJobsCommand(second, more) };
    default:
      throw usageError(
        `mcp-jobs: unknown command '${first.slice(0, 40)}' (known: tools, call, jobs); see mcp-jobs --help`,
      );
  }
}

/** Help and --version need no valid settings: a bad option must not hide the help that explains it. */
function helpGlobal(options: Map<string, string[]>): GlobalSettings {
  return {
    headers: {},
    protocol: 'auto',
    instance: 'default',
    stateDir: '',
    store: 'local',
    json: options.has('json'),
  };
}
