/**
 * Each action.yml is valid for the runner and agrees with the code: node24, the main/post files exist, every input
 * and output is described, every declared input is read by its step and no step reads an undeclared one, and the
 * outputs the steps write are exactly the declared ones.
 */
import { describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { runStep } from '../../src/action/boundary.js';
import type { ActionHost } from '../../src/action/host.js';
import { setupStep } from '../../src/action/setup.js';
import { writeIdentity, writeResultOutputs } from '../../src/action/report.js';
import {
  callSettings,
  cancelSettings,
  ENTRY_INPUTS,
  showSettings,
  submitSettings,
  waitSettings,
  type Entry,
} from '../../src/action/settings.js';
import { JobError } from '../../src/core/errors.js';
import { applyChange, createRecord } from '../../src/core/record.js';
import { CLIENT_INFO } from '../../src/version.js';
import { makeRunnerTemp, REPO_ROOT } from '../helpers/runner.js';

interface ActionYml {
  name: string;
  description: string;
  inputs: Record<string, { description?: string; required?: boolean; default?: string }>;
  outputs: Record<string, { description?: string }>;
  runs: { using: string; main: string; post?: string; 'post-if'?: string };
}

const ACTIONS: Array<{ dir: string; entry: Entry; post: boolean }> = [
  { dir: '.', entry: 'call', post: true },
  { dir: 'submit', entry: 'submit', post: true },
  { dir: 'wait', entry: 'wait', post: true },
  { dir: 'cancel', entry: 'cancel', post: false },
  { dir: 'show', entry: 'show', post: false },
  { dir: 'setup', entry: 'setup', post: false },
];

function load(dir: string): ActionYml {
  return parse(fs.readFileSync(path.join(REPO_ROOT, dir, 'action.yml'), 'utf8')) as ActionYml;
}

/** A host that answers inputs from a map and records every input read and output written. */
function recordingHost(inputs: Record<string, string>) {
  const read = new Set<string>();
  const outputs = new Map<string, string>();
  const host: ActionHost = {
    input: (name) => {
      read.add(name);
      return inputs[name] ?? '';
    },
    setOutput: (name, value) => void outputs.set(name, value),
    setSecret: () => undefined,
    saveState: () => undefined,
    state: () => '',
    env: (name) => (name === 'RUNNER_TEMP' ? makeRunnerTemp() : undefined),
    log: {
      info: () => undefined,
      warning: () => undefined,
      debug: () => undefined,
      error: () => undefined,
      notice: () => undefined,
      group: (_name, fn) => fn(),
    },
    summary: async () => undefined,
    fail: () => undefined,
    addPath: () => undefined,
  };
  return { host, read, outputs };
}

const VALID_INPUTS: Record<string, string> = {
  server: 'http://127.0.0.1:1/mcp',
  tool: 'slow',
  'job-id': 'latest',
};

const PARSERS: Record<Entry, (host: ActionHost) => unknown> = {
  submit: submitSettings,
  wait: waitSettings,
  cancel: cancelSettings,
  call: callSettings,
  show: showSettings,
  setup: () => undefined,
};

it('the client identifies itself with the package version', () => {
  const pkg = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string };
  expect(CLIENT_INFO).toEqual({ name: 'mcp-jobs', version: pkg.version });
});

it("the README's input and output tables are the action.yml files'", () => {
  const check = spawnSync(process.execPath, ['scripts/readme-tables.mjs', '--check'], {
    cwd: REPO_ROOT,
    encoding: 'utf8',
  });
  expect({ code: check.status, stderr: check.stderr }).toEqual({ code: 0, stderr: '' });
});

describe.each(ACTIONS)('$dir/action.yml', ({ dir, entry, post }) => {
  const yml = load(dir);
  yml.inputs ??= {};

  it('runs on node24 with bundles that exist', () => {
    expect(yml.runs.using).toBe('node24');
    expect(fs.existsSync(path.join(REPO_ROOT, dir, yml.runs.main))).toBe(true);
    expect(yml.runs.main).toMatch(/dist\/[a-z]+\/index\.js$/);
    if (post) {
      expect(yml.runs.post).toBeDefined();
      expect(fs.existsSync(path.join(REPO_ROOT, dir, yml.runs.post!))).toBe(true);
      expect(yml.runs['post-if']).toBe('always()');
    } else {
      expect(yml.runs.post).toBeUndefined();
    }
  });

  it('describes every input and output', () => {
    expect(yml.name).toMatch(/\S/);
    expect(yml.description).toMatch(/\S/);
    for (const [name, input] of Object.entries(yml.inputs)) {
      expect({ name, description: (input.description ?? '').length > 10 }).toEqual({ name, description: true });
      expect(name).toMatch(/^[a-z][a-z-]*$/);
      if (input.required) expect({ name, default: input.default }).toEqual({ name, default: undefined });
    }
    for (const [name, output] of Object.entries(yml.outputs)) {
      expect({ name, description: (output.description ?? '').length > 10 }).toEqual({ name, description: true });
    }
  });

  it('declares exactly the inputs its step reads', () => {
    expect(Object.keys(yml.inputs).sort()).toEqual([...ENTRY_INPUTS[entry]].sort());
    const { host, read } = recordingHost(VALID_INPUTS);
    PARSERS[entry](host);
    expect([...read].sort()).toEqual(Object.keys(yml.inputs).sort());
  });

  it('the boundary writes the error output: empty on success, CODE: message on failure', async () => {
    const ok = recordingHost({});
    await runStep(entry, async () => undefined, ok.host);
    expect(ok.outputs.get('error')).toBe('');
    const bad = recordingHost({});
    await runStep(
      entry,
      async () => {
        throw new JobError('SERVER_UNREACHABLE', 'the server went away');
      },
      bad.host,
    );
    expect(bad.outputs.get('error')).toBe('SERVER_UNREACHABLE: the server went away');
    // A step that reports a failed job itself: the code comes from the annotation title, the first failure counts.
    const failed = recordingHost({});
    await runStep(
      entry,
      async (host) => {
        host.fail('Job job_x failed: boom', 'mcp-jobs: job failed');
        host.fail('a second problem', 'mcp-jobs: job canceled');
      },
      failed.host,
    );
    expect(failed.outputs.get('error')).toBe('JOB_FAILED: Job job_x failed: boom');
  });

  it('declares exactly the outputs its step writes', async () => {
    const { host, outputs } = recordingHost({});
    const now = new Date();
    const job = applyChange(
      createRecord({
        instance: 'default',
        serverUrl: 'http://127.0.0.1:1/mcp',
        tool: 't',
        arguments: {},
        redactedArguments: [],
        now,
      }),
      { status: 'completed', result: { content: [{ type: 'text', text: 'ok' }] } },
      now,
    ).record;
    if (entry === 'submit' || entry === 'cancel') writeIdentity(host, job);
    else if (entry === 'setup') await setupStep(host);
    else await writeResultOutputs(host, makeRunnerTemp(), job, now);
    // show adds where the job stands on the server; every entry's boundary writes `error`.
    const extra = entry === 'show' ? ['remote-status', 'status-message', 'ended'] : [];
    expect([...outputs.keys(), ...extra, 'error'].sort()).toEqual(Object.keys(yml.outputs).sort());
  });
});
