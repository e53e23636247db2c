/**
 * Text that came from an MCP server (status messages, tool results, error messages, tool names, task IDs) is data,
 * never markup for the runner or the job summary. These pure functions make it inert where it is shown.
 *
 * What the GitHub runner treats as a command in a step's output (actions/runner, ActionCommand.cs), per line — and it
 * splits lines on `\n`, `\r` and `\r\n` alike:
 * - `::name props::data` once leading whitespace is trimmed (.NET `TrimStart`: any Unicode white space, including
 *   `\t`, `\v`, `\f`, U+0085 and U+00A0), for a registered name (error, warning, notice, debug, add-mask,
 *   stop-commands, group, save-state, set-output, … and, after `::stop-commands::tok`, `::tok::`);
 * - the older `##[name props]data` ANYWHERE in the line, not only at its start.
 * Names are compared without regard to case, and the set of names grows with runner versions, so every `::` at the
 * start of a line and every `##[` is treated as a command here, whatever follows.
 */

/** The characters .NET's `String.TrimStart()` removes (`Char.IsWhiteSpace`), plus U+FEFF, which JavaScript trims. */
const LEADING_SPACE = /^[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff]*/;

/** Line breaks for the runner (`\r`, `\n`) and for anything showing the text (NEL, LS, PS). */
const LINE_BREAK = /\r\n|[\r\n\u0085\u2028\u2029]/;

/**
 * Characters shown as escapes: C0 controls except tab, DEL, C1 controls, the Unicode line and paragraph separators,
 * the byte-order mark and the bidirectional controls (which can make a line read differently from what it is).
 */
// eslint-disable-next-line no-control-regex -- control characters are what this looks for
const INVISIBLE_CHAR = /[\0-\x08\n-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff]/u;
const INVISIBLE = new RegExp(INVISIBLE_CHAR.source, 'gu');

const NAMED: Record<string, string> = { '\0': '\\0', '\n': '\\n', '\r': '\\r', '\v': '\\v', '\f': '\\f' };

function visible(char: string): string {
  const named = NAMED[char];
  if (named !== undefined) return named;
  const code = char.codePointAt(0)!;
  return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
}

/**
 * Breaks every runner command marker in one line: a `::` that starts the line (after white space) gets a backslash
 * before it, and `##[` (and the Azure form `##vso[`) a backslash before its bracket. The text stays readable.
 */
function defuseLine(line: string): string {
  const lead = LEADING_SPACE.exec(line)![0];
  const rest = line.slice(lead.length);
  const defused = rest.startsWith('::') ? `${lead}\\${rest}` : line;
  return defused.replace(/##(vso)?\[/gi, (marker) => `${marker.slice(0, -1)}\\[`);
}

/**
 * Server text for one log line: line breaks and control characters become visible escapes (`\n`, `\r`, `\x07`,
 * `\u202e`) and command markers are broken, so the text can neither start a line of its own nor be read by the runner
 * as a workflow command, wherever in a line it is placed.
 */
export function inert(text: string): string {
  return defuseLine(text.replace(INVISIBLE, visible));
}

/**
 * The last line of defence for everything written to the log: each line of `text` (split where the runner splits)
 * has its command markers broken. Line breaks stay: multi-line messages of our own keep their lines.
 */
export function defuseCommands(text: string): string {
  return text.split(LINE_BREAK).map(defuseLine).join('\n');
}

/**
 * ASCII punctuation: CommonMark lets each be escaped with a backslash, and then it is literal. All but `-`, which
 * means something only at the start of a line (a list item, a rule, a table's delimiter row): server text in the
 * summary never starts one (it has no line breaks, and sits in a table cell or after a list item's job ID), and
 * tool names and task IDs are full of hyphens.
 */
const MARKDOWN_PUNCTUATION = /[!-,./:-@[-`{-~]/;

/**
 * Server text for the job summary (GitHub-flavoured Markdown with HTML), for inline places (a table cell, the text of
 * a list item): every ASCII punctuation character but `-` is backslash-escaped, so nothing can open a link, an image, HTML, an entity, emphasis, a code span, a heading or list,
 * or break out of a table cell (`\|`). Line breaks and control characters become visible escapes as in `inert`, tabs
 * spaces. After `@` and `#` a zero-width space keeps GitHub from turning `@name` into a mention and `#12` into an
 * issue link after rendering. A character-by-character mapping: the escaped form of a part of a text is a part of the
 * escaped text (the secret filter of the summary relies on it).
 */
export function escapeMarkdown(text: string): string {
  let out = '';
  for (const char of text) {
    if (char === '\t') out += ' ';
    else if (INVISIBLE_CHAR.test(char)) out += visible(char).replace(/\\/g, '\\\\');
    else if (MARKDOWN_PUNCTUATION.test(char)) out += `\\${char}${char === '@' || char === '#' ? '\u200b' : ''}`;
    else out += char;
  }
  return out;
}

/** Server text in monospace for the summary: escaped like `escapeMarkdown`, inside `<code>` (its content is Markdown). */
export function markdownCode(text: string): string {
  return `<code>${escapeMarkdown(text)}</code>`;
}

/**
 * The summary with every secret replaced: the runner masks secrets in the log, not in the summary file. Each secret
 * is looked for as written and as `escapeMarkdown` writes it; the replacement is an escaped `***`, so it renders as
 * such and cannot combine with other text into emphasis. A secret of punctuation only is looked for in its escaped
 * form alone: as written it would match the summary's own table syntax.
 */
export function redactSecrets(markdown: string, secrets: Iterable<string>): string {
  const forms = new Set<string>();
  for (const secret of secrets) {
    if (secret === '') continue;
    forms.add(escapeMarkdown(secret));
    if (/[\p{L}\p{N}]/u.test(secret)) forms.add(secret);
  }
  let out = markdown;
  for (const form of [...forms].sort((a, b) => b.length - a.length)) out = out.split(form).join('\\*\\*\\*');
  return out;
}

/**
 * The environment values that look like secrets (by name): masked in a stdio server's stderr and everything we
 * write. Not the step's inputs and saved state (`INPUT_JOB-KEY` is not a key to hide) or values too
 * plain to be a secret (`true`, `8080`): masking those would blank them out of every log line.
 */
export function secretEnvValues(env: NodeJS.ProcessEnv): string[] {
  const secretName = /TOKEN|SECRET|KEY|PASSWORD|PASSWD|PASS|AUTH|CREDENTIAL|PRIVATE|COOKIE|SESSION/i;
  const notSecret = /^(INPUT|STATE)_/i;
  const values = new Set<string>();
  for (const [name, value] of Object.entries(env)) {
    if (value === undefined || value.length < 6 || /^(true|false|\d+)$/i.test(value)) continue;
    if (secretName.test(name) && !notSecret.test(name)) values.add(value);
  }
  return [...values].sort((a, b) => b.length - a.length);
}

/** A masking function for the given secret values (longest first, so a value containing another stays hidden). */
export function masker(secrets: Iterable<string>): (text: string) => string {
  const ordered = [...new Set(secrets)].filter((s) => s !== '').sort((a, b) => b.length - a.length);
  return (text) => ordered.reduce((out, secret) => out.split(secret).join('***'), text);
}

/** `text` with every secret replaced by `***`. */
export function maskSecrets(text: string, secrets: Iterable<string>): string {
  return masker(secrets)(text);
}
