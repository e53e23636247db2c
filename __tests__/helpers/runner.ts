/**
 * Runs a built action entry (`dist/<entry>/index.js`) the way the GitHub Actions runner does:
 * a separate node process with a clean environment, `INPUT_*` variables, file commands
 * (`GITHUB_OUTPUT`, `GITHUB_STATE`, `GITHUB_STEP_SUMMARY`, `GITHUB_ENV`), `RUNNER_TEMP` and, for a
 * post step, `STATE_*` variables. Optionally sends a signal (the runner sends SIGINT on cancel).
 */
import { afterAll } from '@jest/globals';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

export interface SignalAfter {
  signal: NodeJS.Signals;
  /** Send the signal when this settles (e.g. a server's log line): for events the entry does not log itself. */
  when?: Promise<unknown>;
  /** Delay before the signal: from the start, or from the stdout match when `whenStdoutMatches` is set. */
  afterMs?: number;
  /** Send the signal once stdout (all of it so far) first matches this pattern. */
  whenStdoutMatches?: RegExp;
}

export interface RunEntryOptions {
  /** Action inputs by name as in action.yml (e.g. `job-id`), exported as `INPUT_<NAME>`. */
  inputs: Record<string, string>;
  /** Extra environment; a value of `undefined` removes a default variable. */
  env?: Record<string, string | undefined>;
  /** RUNNER_TEMP to use; pass the same directory to submit and wait so they share it. Default: a new one. */
  runnerTemp?: string;
  /** Saved state for a post step, exported as `STATE_<name>`. */
  state?: Record<string, string>;
  /** Kill (SIGKILL) the entry after this long; default 60 s. */
  timeoutMs?: number;
  signalAfter?: SignalAfter;
  /** Working directory (GITHUB_WORKSPACE is not set unless given in `env`). Default: the repository root. */
  cwd?: string;
}

export interface WorkflowCommand {
  command: string;
  properties: Record<string, string>;
  message: string;
}

export interface RunEntryResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** Parsed GITHUB_OUTPUT. */
  outputs: Record<string, string>;
  /** Parsed GITHUB_STATE (feed it to the post step as `state`). */
  state: Record<string, string>;
  /** Contents of GITHUB_STEP_SUMMARY. */
  summary: string;
  /** Parsed GITHUB_ENV. */
  exportedEnv: Record<string, string>;
  /** `::command props::message` lines on stdout (error, warning, notice, add-mask, debug, ...). */
  commands: WorkflowCommand[];
  durationMs: number;
  /** The entry was killed because it exceeded `timeoutMs`. */
  timedOut: boolean;
  /** Milliseconds from start when `signalAfter.signal` was sent, or null. */
  signalSentAtMs: number | null;
  runnerTemp: string;
  /** Paths the file-command files of this run had (removed once read: their contents are above). */
  files: { output: string; state: string; summary: string; env: string };
}

/** Every RUNNER_TEMP this module made: removed after the test file's last test (tests clean up what they make). */
const runnerTemps: string[] = [];
afterAll(() => {
  for (const dir of runnerTemps.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

/** A fresh RUNNER_TEMP directory, removed after the test file's last test. */
export function makeRunnerTemp(prefix = 'mcp-jobs-runner-temp-'): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  runnerTemps.push(dir);
  return dir;
}

/** Name of the environment variable for an input, as @actions/core reads it (hyphens are kept). */
export function inputEnvName(name: string): string {
  return `INPUT_${name.replace(/ /g, '_').toUpperCase()}`;
}

/**
 * Parses a runner file-command file (GITHUB_OUTPUT, GITHUB_STATE, GITHUB_ENV): `name<<DELIMITER` … lines …
 * `DELIMITER` (multi-line values, as @actions/core writes them) and plain `name=value` lines. Later
 * values win, like on the runner.
 */
export function parseFileCommands(text: string): Record<string, string> {
  const result: Record<string, string> = {};
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (line === '') continue;
    const heredoc = /^([^=]+?)<<(.+)$/.exec(line);
    const eq = line.indexOf('=');
    if (heredoc && (eq === -1 || eq > line.indexOf('<<'))) {
      const [, name, delimiter] = heredoc;
      const value: string[] = [];
      let closed = false;
      for (i++; i < lines.length; i++) {
        if (lines[i] === delimiter) {
          closed = true;
          break;
        }
        value.push(lines[i]);
      }
      if (!closed) throw new Error(`file command ${name}: delimiter ${delimiter} not found`);
      result[name] = value.join('\n');
      continue;
    }
    if (eq <= 0) throw new Error(`malformed file command line: ${JSON.stringify(line)}`);
    result[line.slice(0, eq)] = line.slice(eq + 1);
  }
  return result;
}

function unescapeData(value: string): string {
  return value.replace(/%0D/g, '\r').replace(/%0A/g, '\n').replace(/%25/g, '%');
}

function unescapeProperty(value: string): string {
  return unescapeData(value).replace(/%3A/g, ':').replace(/%2C/g, ',');
}

/** Parses `::command key=value,...::message` workflow commands from stdout. */
export function parseWorkflowCommands(stdout: string): WorkflowCommand[] {
  const commands: WorkflowCommand[] = [];
  for (const line of stdout.split(/\r?\n/)) {
    const match = /^::([A-Za-z0-9_-]+)(?: ([^:]*))?::(.*)$/.exec(line);
    if (!match) continue;
    const properties: Record<string, string> = {};
    for (const pair of (match[2] ?? '').split(',')) {
      const eq = pair.indexOf('=');
      if (eq > 0) properties[pair.slice(0, eq)] = unescapeProperty(pair.slice(eq + 1));
    }
    commands.push({ command: match[1], properties, message: unescapeData(match[3]) });
  }
  return commands;
}

/**
 * Every line of `text` that the GitHub runner would process as a workflow command, read the way the runner reads
 * them (actions/runner ActionCommand.TryParseV2 / TryParse): lines split on `\n`, `\r` or `\r\n`; `::name…::` after
 * leading white space is trimmed (.NET `TrimStart`); the older `##[name…]` anywhere in a line. Stricter than the
 * runner: any name counts, registered or not (the set grows, and `::stop-commands::tok` registers `tok`), and so does
 * the Azure Pipelines form `##vso[…]`.
 */
export function runnerCommandLines(text: string): string[] {
  return text.split(/\r\n|\r|\n/).filter((line) => {
    const trimmed = line.replace(/^[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+/, '');
    return (trimmed.startsWith('::') && trimmed.indexOf('::', 2) > 2) || /##(vso)?\[[^\]]*\]/i.test(line);
  });
}

function entryPath(entry: string, root: string): string {
  if (entry.endsWith('.js') || entry.endsWith('.mjs') || entry.endsWith('.cjs')) return path.resolve(root, entry);
  return path.join(root, 'dist', entry, 'index.js');
}

/**
 * Runs `node dist/<entry>/index.js` (or a given .js path) like an action step and collects its outputs,
 * state, summary and exported environment.
 */
export async function runEntry(entry: string, opts: RunEntryOptions): Promise<RunEntryResult> {
  const cwd = opts.cwd ?? REPO_ROOT;
  const script = entryPath(entry, REPO_ROOT);
  if (!fs.existsSync(script)) throw new Error(`action entry not built: ${script}`);

  const runnerTemp = opts.runnerTemp ?? makeRunnerTemp();
  fs.mkdirSync(runnerTemp, { recursive: true });
  const commandsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mcp-jobs-file-commands-'));
  const files = {
    output: path.join(commandsDir, 'github_output'),
    state: path.join(commandsDir, 'github_state'),
    summary: path.join(commandsDir, 'step_summary'),
    env: path.join(commandsDir, 'github_env'),
  };
  for (const file of Object.values(files)) fs.writeFileSync(file, '');

  const env: Record<string, string | undefined> = {
    PATH: process.env.PATH,
    HOME: process.env.HOME ?? os.homedir(),
    GITHUB_ACTIONS: 'true',
    CI: 'true',
    GITHUB_OUTPUT: files.output,
    GITHUB_STATE: files.state,
    GITHUB_STEP_SUMMARY: files.summary,
    GITHUB_ENV: files.env,
    RUNNER_TEMP: runnerTemp,
    RUNNER_OS: 'Linux',
    GITHUB_RUN_ID: '4242424242',
    GITHUB_RUN_ATTEMPT: '1',
    GITHUB_JOB: 'mcp-jobs-test',
    GITHUB_WORKFLOW: 'mcp-jobs tests',
    GITHUB_REPOSITORY: 'octo-org/mcp-jobs-fixture',
    GITHUB_SHA: '0123456789abcdef0123456789abcdef01234567',
    GITHUB_REF: 'refs/heads/main',
  };
  for (const [name, value] of Object.entries(opts.inputs)) env[inputEnvName(name)] = value;
  for (const [name, value] of Object.entries(opts.state ?? {})) env[`STATE_${name}`] = value;
  for (const [name, value] of Object.entries(opts.env ?? {})) env[name] = value;
  const cleanEnv: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) if (value !== undefined) cleanEnv[name] = value;

  const started = Date.now();
  const child = spawn(process.execPath, [script], { cwd, env: cleanEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  let timedOut = false;
  let signalSentAtMs: number | null = null;
  const timers: NodeJS.Timeout[] = [];
  const running = () => child.exitCode === null && child.signalCode === null;

  const sendSignal = (afterMs: number) => {
    const signalAfter = opts.signalAfter;
    if (!signalAfter || signalSentAtMs !== null) return;
    signalSentAtMs = -1; // scheduled
    timers.push(
      setTimeout(() => {
        if (!running()) return;
        signalSentAtMs = Date.now() - started;
        child.kill(signalAfter.signal);
      }, afterMs),
    );
  };

  child.stdout.setEncoding('utf8');
  child.stderr.setEncoding('utf8');
  child.stdout.on('data', (chunk: string) => {
    stdout += chunk;
    const pattern = opts.signalAfter?.whenStdoutMatches;
    if (pattern && signalSentAtMs === null && new RegExp(pattern.source, pattern.flags.replace('g', '')).test(stdout)) {
      sendSignal(opts.signalAfter?.afterMs ?? 0);
    }
  });
  child.stderr.on('data', (chunk: string) => {
    stderr += chunk;
  });
  if (opts.signalAfter?.when) {
    opts.signalAfter.when.then(
      () => sendSignal(opts.signalAfter?.afterMs ?? 0),
      () => undefined,
    );
  } else if (opts.signalAfter && !opts.signalAfter.whenStdoutMatches) sendSignal(opts.signalAfter.afterMs ?? 0);

  const timeoutMs = opts.timeoutMs ?? 60_000;
  timers.push(
    setTimeout(() => {
      if (!running()) return;
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs),
  );

  const { code, signal } = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>(
    (resolve, reject) => {
      child.once('error', reject);
      // 'close' waits for stdout/stderr to be fully read.
      child.once('close', (exitCode, exitSignal) => resolve({ code: exitCode, signal: exitSignal }));
    },
  );
  for (const timer of timers) clearTimeout(timer);
  const durationMs = Date.now() - started;

  const read = (file: string) => fs.readFileSync(file, 'utf8');
  const result: RunEntryResult = {
    code,
    signal,
    stdout,
    stderr,
    outputs: parseFileCommands(read(files.output)),
    state: parseFileCommands(read(files.state)),
    summary: read(files.summary),
    exportedEnv: parseFileCommands(read(files.env)),
    commands: parseWorkflowCommands(stdout),
    durationMs,
    timedOut,
    signalSentAtMs: signalSentAtMs === -1 ? null : signalSentAtMs,
    runnerTemp,
    files,
  };
  fs.rmSync(commandsDir, { recursive: true, force: true });
  return result;
}

/** A readable dump of a run, for assertion messages. */
export function describeRun(result: RunEntryResult): string {
  return [
    `exit code ${result.code}, signal ${result.signal}, ${result.durationMs} ms${result.timedOut ? ' (timed out)' : ''}`,
    `outputs: ${JSON.stringify(result.outputs)}`,
    `--- stdout ---\n${result.stdout}`,
    `--- stderr ---\n${result.stderr}`,
  ].join('\n');
}
