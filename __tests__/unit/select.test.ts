import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { chmod, mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createJobStore, type StoreKind } from '../../src/store/select.js';
import { FakeLog, runningJob, thrown } from './fakes.js';

let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'mcp-jobs-unit-select-'));
});

afterEach(async () => {
  await chmod(dir, 0o700).catch(() => undefined);
  await rm(dir, { recursive: true, force: true });
});

/** A runner env with no shared store service: a token, but neither results nor cache URL. */
const NO_SERVICE = { ACTIONS_RUNTIME_TOKEN: 'token', GITHUB_RUN_ID: '7' };

function build(kind: StoreKind, stateDir: string, env: NodeJS.ProcessEnv = NO_SERVICE) {
  const log = new FakeLog();
  return { log, create: () => createJobStore({ kind, stateDir, retentionDays: 1, log, env }) };
}

describe('createJobStore', () => {
  it.each(['cache', 'artifact'] as const)(
    'fails with STORE_UNAVAILABLE when store: %s is asked for and the runner offers no such service',
    (kind) => {
      const { create, log } = build(kind, path.join(dir, 'state'));
      const error = thrown(create);
      expect(error.code).toBe('STORE_UNAVAILABLE');
      expect(error.input).toBe('store');
      expect(error.message).toMatch(
        new RegExp(`^Input 'store' is '${kind}', but .* cannot be used: .*ACTIONS_RESULTS_URL`),
      );
      expect(error.message).toMatch(/store: local/);
      expect(log.warnings).toEqual([]);
    },
  );

  it('fails the same without a runtime token (not an action step on a runner)', () => {
    expect(thrown(build('cache', path.join(dir, 'state'), {}).create).message).toMatch(/ACTIONS_RUNTIME_TOKEN/);
  });

  it('store: auto falls back to the runner disk, warning when a runner offers no shared store', async () => {
    const { create, log } = build('auto', path.join(dir, 'state'));
    const store = create();
    expect(store.description).toBe(`the local job store at ${path.join(dir, 'state')}`);
    expect(log.warnings).toHaveLength(1);
    expect(log.warnings[0]).toMatch(/^store: auto found no shared store \(the Actions cache: .*\); job records stay/);
    const job = runningJob();
    await store.put(job);
    expect(await store.get('default', job.jobId)).toEqual(job);
  });

  it('store: auto outside a runner (no runtime token) falls back quietly', () => {
    const { create, log } = build('auto', path.join(dir, 'state'), {});
    create();
    expect(log.warnings).toEqual([]);
    expect(log.debugs.join('\n')).toMatch(/not used/);
  });

  it.each(['local', 'auto', 'cache', 'artifact'] as const)(
    'store: %s with a state-dir that is a file fails with STORE_UNAVAILABLE naming it',
    async (kind) => {
      const file = path.join(dir, 'state');
      await writeFile(file, 'not a directory');
      const error = thrown(build(kind, file).create);
      expect(error.code).toBe('STORE_UNAVAILABLE');
      expect(error.input).toBe('state-dir');
      expect(error.path).toBe(file);
      expect(error.message).toBe(
        `Input 'state-dir': ${file} cannot hold job records: it or a directory above it is a file`,
      );
    },
  );

  it('a state-dir below a file fails the same', async () => {
    await writeFile(path.join(dir, 'file'), '');
    const stateDir = path.join(dir, 'file', 'mcp-jobs');
    const error = thrown(build('local', stateDir).create);
    expect(error.code).toBe('STORE_UNAVAILABLE');
    expect(error.message).toContain(stateDir);
  });

  // Root writes anywhere: a mode cannot make a directory unwritable for it.
  (process.getuid?.() === 0 ? it.skip : it)('a state-dir that is not writable fails naming it', async () => {
    const stateDir = path.join(dir, 'read-only');
    await mkdir(stateDir);
    await chmod(stateDir, 0o500);
    const error = thrown(build('local', stateDir).create);
    expect(error.code).toBe('STORE_UNAVAILABLE');
    expect(error.message).toMatch(new RegExp(`${stateDir} cannot hold job records: it is not writable \\(EACCES\\)`));
  });

  it('creates a missing state-dir and leaves nothing in it but the scratch directory', async () => {
    const stateDir = path.join(dir, 'a', 'b');
    build('local', stateDir).create();
    expect(await readdir(stateDir)).toEqual([]);
    build('auto', stateDir).create();
    expect(await readdir(stateDir)).toEqual(['.scratch']);
  });
});
