/**
 * A result larger than a record holds, end to end through the steps (run in this process, with a plain host): the
 * root action calls the real fixture server's `big-result` tool, the record keeps only a reference to the result,
 * and the outputs, the result file and a later wait (answered from the record) still have all of it.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { callStep, waitStep } from '../../src/action/steps.js';
import { RESULT_INLINE_LIMIT_BYTES } from '../../src/core/record.js';
import { startFixtureServer, stopAllServers, type RunningServer } from '../helpers/servers.js';
import { FakeHost } from '../unit/fakes.js';

let server: RunningServer;
let stateDir: string;

beforeAll(async () => {
  server = await startFixtureServer();
  stateDir = await mkdtemp(path.join(os.tmpdir(), 'mcp-jobs-large-result-'));
});

afterAll(async () => {
  await stopAllServers();
  if (stateDir) await rm(stateDir, { recursive: true, force: true });
});

describe('a large result', () => {
  it('is kept beside the record, and every output and the result file still have all of it', async () => {
    // Over the record's limit, under the 256 KiB output limit: the text output must hold it whole.
    const bytes = 2 * RESULT_INLINE_LIMIT_BYTES;
    const common = { 'state-dir': stateDir, store: 'local' };
    const call = new FakeHost({
      ...common,
      server: server.url,
      tool: 'big-result',
      arguments: JSON.stringify({ bytes }),
    });
    await callStep(call);
    expect(call.failures).toEqual([]);
    expect(call.outputs.get('status')).toBe('completed');
    const text = call.outputs.get('text')!;
    expect(Buffer.byteLength(text)).toBe(bytes);

    const jobId = call.outputs.get('job-id')!;
    const jobs = path.join(stateDir, 'instances', 'default', 'jobs');
    const recordFile = path.join(jobs, `${jobId}.json`);
    const stored = JSON.parse(await readFile(recordFile, 'utf8'));
    expect(stored.result).toBeUndefined();
    expect(stored.resultRef.bytes).toBeGreaterThan(bytes);
    expect((await stat(recordFile)).size).toBeLessThan(RESULT_INLINE_LIMIT_BYTES / 8);

    const resultFile = call.outputs.get('result-file')!;
    expect(resultFile).toBe(path.join(stateDir, 'instances', 'default', 'results', `${jobId}.json`));
    expect(JSON.parse(await readFile(resultFile, 'utf8')).content[0].text).toBe(text);
    expect((await stat(resultFile)).mode & 0o077).toBe(0);
    expect(JSON.parse(call.outputs.get('result')!).content[0].text).toBe(text);

    // A later wait is answered from the record, and reads the result back through the store.
    const wait = new FakeHost({ ...common, 'job-id': jobId });
    await waitStep(wait);
    expect(wait.failures).toEqual([]);
    expect(wait.outputs.get('text')).toBe(text);
    expect(wait.outputs.get('result-file')).toBe(resultFile);
    expect(await readdir(jobs)).toEqual([`${jobId}.json`]);
  }, 60_000);
});
