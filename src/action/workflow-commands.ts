/**
 * The runner's workflow commands and file commands, written the way @actions/core 3 writes them: inputs from
 * `INPUT_<NAME>`, outputs and state as `name<<delimiter` blocks appended to the files `GITHUB_OUTPUT` and
 * `GITHUB_STATE` name, `::command props::data` lines on stdout for masks, annotations, debug lines and groups, and
 * the job summary appended to `GITHUB_STEP_SUMMARY`.
 *
 * Why not @actions/core itself: importing it loads its HTTP client and undici (for OIDC tokens we never ask for),
 * which measured 1.6× a bare `node` start on its own, and every step pays it before it reads one file; a wait that
 * answers from a finished record must cost about what node costs. @actions/core stays a dependency (the cache and
 * artifact clients use it, only on the paths that use those stores), and a unit test checks that every function
 * here writes exactly what its @actions/core counterpart writes.
 */
import { appendFileSync, existsSync } from 'node:fs';
import { access, appendFile, constants } from 'node:fs/promises';
import { EOL } from 'node:os';

/** `core.getInput(name)`: the trimmed value of `INPUT_<NAME>` (spaces → `_`), '' when unset. */
export function getInput(name: string): string {
  return (process.env[`INPUT_${name.replace(/ /g, '_').toUpperCase()}`] ?? '').trim();
}

/** `core.getState(name)`: what the main step saved for this post step. */
export function getState(name: string): string {
  return process.env[`STATE_${name}`] ?? '';
}

/** `core.setOutput`. */
export function setOutput(name: string, value: string): void {
  keyValue('OUTPUT', 'set-output', name, value);
}

/** `core.saveState`. */
export function saveState(name: string, value: string): void {
  keyValue('STATE', 'save-state', name, value);
}

/** `core.setSecret`: masks `value` in every later log line of the job. */
export function setSecret(value: string): void {
  issueCommand('add-mask', {}, value);
}

/** `core.addPath`: puts `dir` first on PATH for this process and every later step. */
export function addPath(dir: string): void {
  if (nonEmpty(process.env.GITHUB_PATH)) fileCommand('PATH', dir);
  else issueCommand('add-path', {}, dir);
  process.env.PATH = `${dir}${process.platform === 'win32' ? ';' : ':'}${process.env.PATH ?? ''}`;
}

/** `core.info`: a plain log line, written as given (callers defuse server text first). */
export function info(message: string): void {
  process.stdout.write(message + EOL);
}

export function debug(message: string): void {
  issueCommand('debug', {}, message);
}

/** Annotations: `::warning title=…::message` and friends. */
export function annotate(kind: 'error' | 'warning' | 'notice', message: string, title?: string): void {
  issueCommand(kind, title === undefined ? {} : { title }, message);
}

/** `core.group`: the lines `fn` writes fold under `name` in the log. */
export async function group<T>(name: string, fn: () => Promise<T>): Promise<T> {
  issueCommand('group', {}, name);
  try {
    return await fn();
  } finally {
    issueCommand('endgroup', {}, '');
  }
}

/**
 * `core.summary.addRaw(markdown, true).write()`: appends to the step's summary file. Rejects when the file named by
 * `GITHUB_STEP_SUMMARY` cannot be read and written, as @actions/core does.
 */
export async function appendSummary(markdown: string): Promise<void> {
  const file = process.env.GITHUB_STEP_SUMMARY;
  if (!nonEmpty(file)) {
    throw new Error(
      'Unable to find environment variable for $GITHUB_STEP_SUMMARY. Check if your runtime environment supports job summaries.',
    );
  }
  try {
    await access(file, constants.R_OK | constants.W_OK);
  } catch {
    throw new Error(`Unable to access summary file: '${file}'. Check if the file has correct read/write permissions.`);
  }
  await appendFile(file, markdown + EOL, { encoding: 'utf8' });
}

function nonEmpty(value: string | undefined): value is string {
  return value !== undefined && value !== '';
}

/** A `name<<delimiter` block in the file command's file, or the old stdout command where the runner has no file. */
function keyValue(command: 'OUTPUT' | 'STATE', legacy: string, name: string, value: string): void {
  if (!nonEmpty(process.env[`GITHUB_${command}`])) {
    if (command === 'OUTPUT') process.stdout.write(EOL);
    issueCommand(legacy, { name }, value);
    return;
  }
  // A delimiter that neither the name nor the value contains: the runner reads up to its first match. What keeps a
  // value from ending its block early is that check, not the randomness, so Math.random will do (node:crypto alone
  // costs a sixth of a step answered from its record); a value that happens to contain one gets another.
  let delimiter: string;
  do delimiter = `ghadelimiter_${uuidShaped()}`;
  while (name.includes(delimiter) || value.includes(delimiter));
  fileCommand(command, `${name}<<${delimiter}${EOL}${value}${EOL}${delimiter}`);
}

/** 32 random hex digits laid out as a UUID, as @actions/core's delimiters are. */
function uuidShaped(): string {
  let hex = '';
  while (hex.length < 32)
    hex += Math.floor(Math.random() * 2 ** 32)
      .toString(16)
      .padStart(8, '0');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

function fileCommand(command: 'OUTPUT' | 'STATE' | 'PATH', message: string): void {
  const file = process.env[`GITHUB_${command}`] as string;
  if (!existsSync(file)) throw new Error(`Missing file at path: ${file}`);
  appendFileSync(file, `${message}${EOL}`, { encoding: 'utf8' });
}

/** `::name key=value,…::data`, escaped as the runner unescapes it. Properties with an empty value are left out. */
function issueCommand(name: string, properties: Record<string, string>, message: string): void {
  const props = Object.entries(properties)
    .filter(([, value]) => value !== '')
    .map(([key, value]) => `${key}=${escapeProperty(value)}`)
    .join(',');
  process.stdout.write(`::${name}${props === '' ? '' : ` ${props}`}::${escapeData(message)}${EOL}`);
}

function escapeData(text: string): string {
  return text.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
}

function escapeProperty(text: string): string {
  return escapeData(text).replace(/:/g, '%3A').replace(/,/g, '%2C');
}
