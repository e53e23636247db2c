/**
 * The real host over the runner's workflow commands, in this process: what it writes to stdout (where the runner reads workflow
 * commands) and to the job summary file.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { actionsHost } from '../../src/action/host.js';
import { escapeMarkdown } from '../../src/core/text.js';
import { parseWorkflowCommands, runnerCommandLines } from '../helpers/runner.js';
import { captureStdout } from '../helpers/stdout.js';

let dir: string;
let summaryFile: string;
let written: string;
let restore: () => void;

// One summary file for the whole file.
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mcp-jobs-unit-host-'));
  summaryFile = path.join(dir, 'summary.md');
});

afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

beforeEach(() => {
  fs.writeFileSync(summaryFile, '');
  const before = process.env.GITHUB_STEP_SUMMARY;
  const exitCode = process.exitCode;
  process.env.GITHUB_STEP_SUMMARY = summaryFile;
  written = '';
  const restoreStdout = captureStdout((text) => (written += text));
  restore = () => {
    restoreStdout();
    process.exitCode = exitCode;
    if (before === undefined) delete process.env.GITHUB_STEP_SUMMARY;
    else process.env.GITHUB_STEP_SUMMARY = before;
  };
});

afterEach(() => {
  restore();
});

const HOSTILE =
  'status\n::error title=pwned::injected\r\n::add-mask::done\r::stop-commands::tok\n  ##[error]x ##[add-mask]y';

describe('actionsHost log guard', () => {
  it('writes no workflow command for a log line that carries some', async () => {
    const host = actionsHost();
    host.log.info(HOSTILE);
    host.log.debug(HOSTILE);
    await host.log.group(HOSTILE, async () => undefined);
    const commands = parseWorkflowCommands(written);
    // Only the debug line and the group, issued by @actions/core itself.
    expect(commands.map((c) => c.command)).toEqual(['debug', 'group', 'endgroup']);
    const raw = runnerCommandLines(written).filter((line) => !/^::(debug|group|endgroup)::/.test(line));
    expect(raw).toEqual([]);
    expect(written).not.toContain('##[');
    // The text is all still there to read.
    expect(written).toContain('\\::error title=pwned::injected');
  });

  it('keeps annotations to their own command, with their text defused', () => {
    const host = actionsHost();
    host.log.warning(HOSTILE);
    host.log.error(HOSTILE, 'title\n::add-mask::t');
    host.log.notice(HOSTILE);
    host.fail(HOSTILE, 'mcp-jobs wait: SERVER_ERROR');
    const commands = parseWorkflowCommands(written);
    expect(commands.map((c) => c.command)).toEqual(['warning', 'error', 'notice', 'error']);
    expect(commands.map((c) => c.properties.title)).toEqual([
      undefined,
      'title\n\\::add-mask::t',
      undefined,
      'mcp-jobs wait: SERVER_ERROR',
    ]);
    for (const command of commands) {
      expect(command.message).toContain('\\::error title=pwned::injected');
      expect(command.message).not.toContain('##[');
    }
    expect(written.split('\n').filter((line) => line !== '')).toHaveLength(4);
    expect(process.exitCode).toBe(1);
  });

  it('masks a secret through the runner, unchanged', () => {
    actionsHost().setSecret('s3cret::x');
    expect(parseWorkflowCommands(written)).toEqual([{ command: 'add-mask', properties: {}, message: 's3cret::x' }]);
  });
});

describe('actionsHost outputs', () => {
  it('replaces every secret given to setSecret in an output value', () => {
    const file = path.join(dir, 'output');
    fs.writeFileSync(file, '');
    const before = process.env.GITHUB_OUTPUT;
    process.env.GITHUB_OUTPUT = file;
    try {
      const host = actionsHost();
      host.setSecret('tok-123');
      host.setOutput('error', 'SERVER_UNREACHABLE: Cannot reach http://h/mcp?token=tok-123');
      const text = fs.readFileSync(file, 'utf8');
      expect(text).toContain('Cannot reach http://h/mcp?token=***');
      expect(text).not.toContain('tok-123');
    } finally {
      if (before === undefined) delete process.env.GITHUB_OUTPUT;
      else process.env.GITHUB_OUTPUT = before;
    }
  });
});

describe('actionsHost summary', () => {
  it('replaces every secret given to setSecret, as written and as escaped', async () => {
    const host = actionsHost();
    host.setSecret('tok_s3cret');
    host.setSecret('Bearer abc.def');
    await host.summary(
      `### mcp-jobs\n| a | tok_s3cret | ${escapeMarkdown('failed with tok_s3cret and Bearer abc.def')} |\n`,
    );
    const summary = fs.readFileSync(summaryFile, 'utf8');
    expect(summary).not.toContain('s3cret');
    expect(summary).not.toContain('abc');
    expect(summary).toContain('| a | \\*\\*\\* | failed with \\*\\*\\* and \\*\\*\\* |');
  });
});
