/**
 * src/action/workflow-commands.ts writes what @actions/core writes: the same stdout lines, the same file command
 * blocks (up to the random delimiter), the same summary bytes, for values that need escaping. @actions/core is the
 * reference the runner's formats are checked against.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import * as core from '@actions/core';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as ours from '../../src/action/workflow-commands.js';
import { captureStdout } from '../helpers/stdout.js';

const TRICKY = [
  'plain',
  '',
  'two\nlines\r\nand a CR',
  '100% sure: a, b, c',
  '::warning::not a command %0A',
  'unicode ✓ — ünïcödé',
  'ends with newline\n',
];

let dir: string;
let written: string;
let restore: () => void;
const env = { ...process.env };

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mcp-jobs-unit-wfc-'));
});

afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

beforeEach(() => {
  written = '';
  restore = captureStdout((text) => (written += text));
});

afterEach(() => {
  restore();
  process.env = { ...env };
});

/** What `fn` writes to stdout. */
function stdout(fn: () => void): string {
  written = '';
  fn();
  return written;
}

/** A file command's file after `fn`, with each random delimiter replaced by a fixed name. */
function fileAfter(variable: string, fn: () => void): string {
  const file = path.join(dir, `${variable}-${Math.random().toString(36).slice(2)}`);
  fs.writeFileSync(file, '');
  process.env[variable] = file;
  fn();
  const text = fs.readFileSync(file, 'utf8');
  fs.rmSync(file);
  return text.replace(/ghadelimiter_[0-9a-f-]{36}/g, 'DELIMITER');
}

describe('the workflow commands, next to @actions/core', () => {
  it('writes log lines, debug lines, masks and annotations as @actions/core does', () => {
    for (const value of TRICKY) {
      expect(stdout(() => ours.info(value))).toBe(stdout(() => core.info(value)));
      expect(stdout(() => ours.debug(value))).toBe(stdout(() => core.debug(value)));
      expect(stdout(() => ours.setSecret(value))).toBe(stdout(() => core.setSecret(value)));
      for (const kind of ['error', 'warning', 'notice'] as const) {
        expect(stdout(() => ours.annotate(kind, value))).toBe(stdout(() => core[kind](value)));
        expect(stdout(() => ours.annotate(kind, value, `title: ${value}, more`))).toBe(
          stdout(() => core[kind](value, { title: `title: ${value}, more` })),
        );
      }
    }
  });

  it('writes outputs and state as the same delimited blocks', () => {
    for (const value of TRICKY) {
      expect(fileAfter('GITHUB_OUTPUT', () => ours.setOutput('out-name', value))).toBe(
        fileAfter('GITHUB_OUTPUT', () => core.setOutput('out-name', value)),
      );
      expect(fileAfter('GITHUB_STATE', () => ours.saveState('state_name', value))).toBe(
        fileAfter('GITHUB_STATE', () => core.saveState('state_name', value)),
      );
    }
    expect(fileAfter('GITHUB_OUTPUT', () => ours.setOutput('a', 'x\ny'))).toBe('a<<DELIMITER\nx\ny\nDELIMITER\n');
  });

  it('never uses a delimiter that the value contains, so no value can end its block early', () => {
    const file = path.join(dir, 'delimited');
    for (let i = 0; i < 50; i++) {
      fs.writeFileSync(file, '');
      process.env.GITHUB_OUTPUT = file;
      const value = `line\nghadelimiter_${'0'.repeat(8)}-0000-0000-0000-${'0'.repeat(12)}\nnot-an-output<<x`;
      ours.setOutput('out', value);
      const [head, ...rest] = fs.readFileSync(file, 'utf8').split('\n');
      const delimiter = head!.slice('out<<'.length);
      expect(delimiter).toMatch(/^ghadelimiter_[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
      expect(value.includes(delimiter)).toBe(false);
      // The runner reads the value up to the first line that is the delimiter: all of it, and nothing more.
      expect(rest.slice(0, rest.indexOf(delimiter)).join('\n')).toBe(value);
    }
  });

  it('falls back to the stdout commands where the runner gives no file, as @actions/core does', () => {
    delete process.env.GITHUB_OUTPUT;
    delete process.env.GITHUB_STATE;
    for (const value of TRICKY) {
      expect(stdout(() => ours.setOutput('n', value))).toBe(stdout(() => core.setOutput('n', value)));
      expect(stdout(() => ours.saveState('n', value))).toBe(stdout(() => core.saveState('n', value)));
    }
  });

  it('refuses a missing output file as @actions/core does', () => {
    process.env.GITHUB_OUTPUT = path.join(dir, 'missing');
    expect(() => ours.setOutput('n', 'v')).toThrow(/Missing file at path: .*missing/);
    expect(() => core.setOutput('n', 'v')).toThrow(/Missing file at path: .*missing/);
  });

  it('adds to PATH as @actions/core does', () => {
    const before = process.env.PATH;
    const mine = fileAfter('GITHUB_PATH', () => ours.addPath('/opt/ours'));
    const ourPath = process.env.PATH;
    process.env.PATH = before;
    const theirs = fileAfter('GITHUB_PATH', () => core.addPath('/opt/ours'));
    expect(mine).toBe(theirs);
    expect(ourPath).toBe(process.env.PATH);
  });

  it('reads inputs and state as @actions/core does', () => {
    process.env['INPUT_JOB-ID'] = '  job_abc \n';
    process.env.INPUT_WITH_SPACE = 'x';
    process.env.STATE_job = 'job_1';
    expect(ours.getInput('job-id')).toBe(core.getInput('job-id'));
    expect(ours.getInput('with space')).toBe(core.getInput('with space'));
    expect(ours.getInput('unset-input')).toBe(core.getInput('unset-input'));
    expect(ours.getState('job')).toBe(core.getState('job'));
    expect(ours.getState('unset')).toBe(core.getState('unset'));
  });

  it('groups lines as @actions/core does, and ends the group when the work throws', async () => {
    written = '';
    await ours.group('name: 1%', async () => ours.info('inside'));
    const mine = written;
    written = '';
    await core.group('name: 1%', async () => core.info('inside'));
    expect(mine).toBe(written);
    written = '';
    await expect(ours.group('g', () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(written).toBe('::group::g\n::endgroup::\n');
  });

  it('appends to the job summary as @actions/core does', async () => {
    const file = path.join(dir, 'summary.md');
    fs.writeFileSync(file, '');
    process.env.GITHUB_STEP_SUMMARY = file;
    await ours.appendSummary('# one\n| a |');
    const mine = fs.readFileSync(file, 'utf8');
    fs.writeFileSync(file, '');
    await core.summary.addRaw('# one\n| a |', true).write();
    core.summary.emptyBuffer();
    expect(mine).toBe(fs.readFileSync(file, 'utf8'));
    process.env.GITHUB_STEP_SUMMARY = path.join(dir, 'no-such-dir', 'summary.md');
    await expect(ours.appendSummary('x')).rejects.toThrow(/Unable to access summary file/);
  });
});
