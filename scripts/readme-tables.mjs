#!/usr/bin/env node
// Writes the README's input/output tables from the action.yml files, between the markers
// `<!-- tables:start -->` and `<!-- tables:end -->`, then formats the README with Prettier.
// `--check` only reports whether the README is current (the test suite checks the same).
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { format, resolveConfig } from 'prettier';
import { parse } from 'yaml';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const START = '<!-- tables:start -->';
const END = '<!-- tables:end -->';
const ACTIONS = [
  ['action.yml', 'Root action (submit + wait)', 'OWNER/mcp-jobs@v0'],
  ['submit/action.yml', 'submit', 'OWNER/mcp-jobs/submit@v0'],
  ['wait/action.yml', 'wait', 'OWNER/mcp-jobs/wait@v0'],
  ['cancel/action.yml', 'cancel', 'OWNER/mcp-jobs/cancel@v0'],
  ['show/action.yml', 'show', 'OWNER/mcp-jobs/show@v0'],
  ['setup/action.yml', 'setup', 'OWNER/mcp-jobs/setup@v0'],
];

const cell = (text) => String(text).split(/\s+/).join(' ').trim().replace(/\|/g, '\\|');

export function renderTables() {
  const out = [];
  for (const [file, title, uses] of ACTIONS) {
    const action = parse(readFileSync(join(root, file), 'utf8'));
    out.push(`### ${title}: \`uses: ${uses}\``, '', cell(action.description), '');
    const inputs = Object.entries(action.inputs ?? {});
    if (inputs.length === 0) out.push('It has no inputs.');
    else out.push('| Input | Required | Default | Description |', '| --- | --- | --- | --- |');
    for (const [name, input] of inputs) {
      const fallback = !('default' in input) ? '' : input.default === '' ? '(empty)' : `\`${input.default}\``;
      out.push(`| \`${name}\` | ${input.required ? 'yes' : 'no'} | ${fallback} | ${cell(input.description)} |`);
    }
    out.push('', '| Output | Description |', '| --- | --- |');
    for (const [name, output] of Object.entries(action.outputs ?? {})) {
      out.push(`| \`${name}\` | ${cell(output.description)} |`);
    }
    out.push('');
  }
  return out.join('\n');
}

/** The README as it should be: the given text with fresh tables between the markers, Prettier-formatted. */
export async function renderReadme(text) {
  const start = text.indexOf(START);
  const end = text.indexOf(END);
  if (start < 0 || end < start) throw new Error(`README.md lacks the ${START} … ${END} markers`);
  const next = `${text.slice(0, start + START.length)}\n\n${renderTables()}\n${text.slice(end)}`;
  const path = join(root, 'README.md');
  return format(next, { ...(await resolveConfig(path)), filepath: path });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const path = join(root, 'README.md');
  const current = readFileSync(path, 'utf8');
  const wanted = await renderReadme(current);
  if (process.argv.includes('--check')) {
    if (current !== wanted) {
      console.error('README.md tables are stale: run `npm run readme`');
      process.exit(1);
    }
  } else if (current !== wanted) {
    writeFileSync(path, wanted);
    console.log('README.md tables updated');
  }
}
