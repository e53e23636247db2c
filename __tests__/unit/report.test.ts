import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {
  aggregateStatus,
  isErrorResult,
  OUTPUT_LIMIT_BYTES,
  resultText,
  summaryMarkdown,
  writeIdentity,
  writeFanInOutputs,
  writeResultOutputs,
} from '../../src/action/report.js';
import { applyChange, RESULT_INLINE_LIMIT_BYTES, type JobRecord } from '../../src/core/record.js';
import { LocalJobStore } from '../../src/store/local.js';
import { endedJob, FakeHost, queuedJob, runningJob, T0 } from './fakes.js';

let stateDir: string;

beforeEach(async () => {
  stateDir = await mkdtemp(path.join(os.tmpdir(), 'mcp-jobs-unit-report-'));
});

afterEach(async () => {
  await rm(stateDir, { recursive: true, force: true });
});

function completedWith(result: unknown, seconds = 5): JobRecord {
  return applyChange(
    runningJob(),
    { status: 'completed', remoteStatus: 'completed', result },
    new Date(T0.getTime() + seconds * 1_000),
  ).record;
}

describe('resultText', () => {
  it('joins the text blocks only, in order', () => {
    const result = {
      content: [
        { type: 'text', text: 'first' },
        { type: 'image', data: 'AAAA', mimeType: 'image/png' },
        { type: 'text', text: 'second' },
        { type: 'resource', resource: { uri: 'file:///x', text: 'not a text block' } },
        { type: 'text' },
        null,
      ],
    };
    expect(resultText(result)).toBe('first\nsecond');
  });

  it.each([undefined, null, 'text', 42, {}, { content: 'not an array' }])('is empty for %j', (result) => {
    expect(resultText(result)).toBe('');
  });
});

describe('isErrorResult', () => {
  it('is true for a failed job and for a tool error', () => {
    expect(isErrorResult(endedJob('failed'))).toBe(true);
    expect(isErrorResult(completedWith({ content: [], isError: true }))).toBe(true);
  });

  it('is false for a completed job without isError, and for jobs without a result', () => {
    expect(isErrorResult(completedWith({ content: [], isError: false }))).toBe(false);
    expect(isErrorResult(endedJob('completed'))).toBe(false);
    expect(isErrorResult(runningJob())).toBe(false);
    expect(isErrorResult(endedJob('canceled'))).toBe(false);
  });
});

describe('writeResultOutputs', () => {
  it('sets every output and writes the full result to the result file', async () => {
    const result = {
      content: [
        { type: 'text', text: 'line 1' },
        { type: 'text', text: 'line 2' },
      ],
      structuredContent: { answer: 42 },
    };
    const record = completedWith(result, 90.5);
    const host = new FakeHost();
    await writeResultOutputs(host, stateDir, record, new Date(T0.getTime() + 1_000_000));

    const file = path.join(stateDir, 'instances', 'default', 'results', `${record.jobId}.json`);
    expect(Object.fromEntries(host.outputs)).toEqual({
      'job-id': record.jobId,
      'task-id': 'task-1',
      status: 'completed',
      statuses: JSON.stringify({ [record.jobId]: 'completed' }),
      result: JSON.stringify(result),
      text: 'line 1\nline 2',
      'structured-content': JSON.stringify({ answer: 42 }),
      'is-error': 'false',
      'result-file': file,
      'duration-seconds': '90.500',
    });
    expect(JSON.parse(await readFile(file, 'utf8'))).toEqual(result);
    expect(await readdir(path.dirname(file))).toEqual([`${record.jobId}.json`]);
    expect(host.warnings).toEqual([]);
  });

  it('leaves outputs empty, with a warning, when they are over the limit; the file keeps everything', async () => {
    const big = 'x'.repeat(OUTPUT_LIMIT_BYTES + 10);
    const result = { content: [{ type: 'text', text: big }], structuredContent: { small: true } };
    const record = completedWith(result);
    const host = new FakeHost();
    await writeResultOutputs(host, stateDir, record, T0);

    expect(host.outputs.get('result')).toBe('');
    expect(host.outputs.get('text')).toBe('');
    expect(host.outputs.get('structured-content')).toBe('{"small":true}');
    const file = host.outputs.get('result-file')!;
    expect(file).not.toBe('');
    expect(JSON.parse(await readFile(file, 'utf8'))).toEqual(result);
    expect(host.warnings).toHaveLength(2);
    expect(host.warnings[0]).toContain("'result'");
    expect(host.warnings[1]).toContain("'text'");
    for (const warning of host.warnings) expect(warning).toContain(file);
  });

  it('counts the limit in bytes, not characters', async () => {
    // Under the limit in characters, over it in UTF-8 bytes.
    const text = 'é'.repeat(Math.floor(OUTPUT_LIMIT_BYTES / 2) + 10);
    const host = new FakeHost();
    await writeResultOutputs(host, stateDir, completedWith({ content: [{ type: 'text', text }] }), T0);
    expect(text.length).toBeLessThan(OUTPUT_LIMIT_BYTES);
    expect(host.outputs.get('text')).toBe('');
  });

  it('keeps a value exactly at the limit', async () => {
    const text = 'y'.repeat(OUTPUT_LIMIT_BYTES);
    const host = new FakeHost();
    await writeResultOutputs(host, stateDir, completedWith({ content: [{ type: 'text', text }] }), T0);
    expect(host.outputs.get('text')).toBe(text);
  });

  it('writes no file and empty result outputs for a job without a result', async () => {
    const record = endedJob('failed');
    const host = new FakeHost();
    await writeResultOutputs(host, stateDir, record, T0);
    expect(host.outputs.get('result')).toBe('');
    expect(host.outputs.get('text')).toBe('');
    expect(host.outputs.get('structured-content')).toBe('');
    expect(host.outputs.get('result-file')).toBe('');
    expect(host.outputs.get('is-error')).toBe('true');
    expect(host.outputs.get('status')).toBe('failed');
    expect(await readdir(stateDir)).toEqual([]);
  });

  it('counts an unfinished job up to now', async () => {
    const host = new FakeHost();
    await writeResultOutputs(host, stateDir, runningJob(), new Date(T0.getTime() + 12_345));
    expect(host.outputs.get('duration-seconds')).toBe('12.345');
  });
});

describe('writeIdentity', () => {
  it('sets an empty task-id for a job without a task', () => {
    const host = new FakeHost();
    const record = queuedJob();
    writeIdentity(host, record);
    expect(Object.fromEntries(host.outputs)).toEqual({ 'job-id': record.jobId, 'task-id': '', status: 'queued' });
  });
});

describe('summaryMarkdown', () => {
  it('writes one table row per job', () => {
    const done = endedJob('completed');
    const canceled = endedJob('canceled');
    const markdown = summaryMarkdown('mcp-jobs wait', [done, canceled], T0);
    const lines = markdown.split('\n');
    expect(lines[0]).toBe('### mcp-jobs wait');
    const rows = lines.filter((l) => l.startsWith('| `job_'));
    expect(rows).toHaveLength(2);
    expect(rows[0]).toContain(done.jobId);
    expect(rows[0]).toContain('| completed |');
    expect(rows[0]).toContain('<code>task-1</code>');
    expect(rows[1]).toContain('canceled (user)');
  });

  it('escapes pipes and newlines in the tool name and the failure reason', () => {
    const tool = 'weird|tool\nname';
    const running = runningJob({ tool });
    const failed = applyChange(
      running,
      { status: 'failed', error: { code: 'TASK_FAILED', message: 'bad | worse\r\nworst' } },
      T0,
    ).record;
    const markdown = summaryMarkdown('mcp-jobs', [failed], T0);
    const row = markdown.split('\n').find((l) => l.includes(failed.jobId) && l.startsWith('|'))!;
    // Six unescaped pipes make five cells: the tool's own pipe must not add one.
    expect(row.match(/(?<!\\)\|/g)).toHaveLength(6);
    // The line break shows as \n (escaped for Markdown as \\n): the row stays one line.
    expect(row).toContain('weird\\|tool\\\\nname');
    expect(markdown).toContain(`- \`${failed.jobId}\`: bad \\| worse\\\\r\\\\nworst`);
  });

  it('escapes everything a server sends, so none of it renders as a link, an image, HTML or code', () => {
    const hostile = [
      '<img src=x onerror=alert(1)>',
      '[click](https://evil.example)',
      '![pixel](https://evil.example/p.png)',
      '`code` **bold** _em_ ~~gone~~ &amp; $x$ <!-- c -->',
      '| forged | cell |',
      '\n::error title=pwned::injected',
      '@octocat #12',
    ].join(' ');
    const running = runningJob({ tool: hostile }, `task${hostile}`);
    const failed = applyChange(
      running,
      { status: 'failed', error: { code: 'TASK_FAILED', message: hostile } },
      T0,
    ).record;
    const markdown = summaryMarkdown('mcp-jobs', [failed], T0);
    const row = markdown.split('\n').find((l) => l.startsWith('| `job_'))!;
    const cells = row.split(/(?<!\\)\|/);
    expect(cells).toHaveLength(7);
    const reason = markdown.split('\n').find((l) => l.startsWith('- '))!;
    const served = {
      tool: cells[2]!.trim(),
      task: /^<code>(.*)<\/code>$/.exec(cells[4]!.trim())![1]!,
      reason: reason.slice(`- \`${failed.jobId}\`: `.length),
    };
    // Every Markdown character the server sent is escaped (a backslash before it), so it renders as itself.
    const unescaped = (text: string): string[] => text.replace(/\\[\s\S]/g, '').match(/[!-,./:-@[-`{-~]/g) ?? [];
    expect(Object.values(served).map(unescaped)).toEqual([[], [], []]);
    // The escaped text still reads as what the server sent.
    expect(served.reason).toContain('\\<img src\\=x onerror\\=alert\\(1\\)\\>');
    expect(served.reason).toContain('\\[click\\]\\(https\\:\\/\\/evil\\.example\\)');
    expect(served.reason).toContain('\\\\n\\:\\:error');
    // A zero-width space keeps @name and #12 from becoming a mention and an issue link.
    expect(served.tool).toContain('\\@\u200boctocat \\#\u200b12');
    // Our own Markdown is untouched: the heading, the table, the job ID in a code span.
    expect(markdown.split('\n').slice(0, 4)).toEqual([
      '### mcp-jobs',
      '',
      '| Job | Tool | Status | Task | Duration |',
      '| --- | --- | --- | --- | --- |',
    ]);
    expect(cells[1]).toBe(` \`${failed.jobId}\` `);
  });

  it('lists a reason for each job with an error, and none for the others', () => {
    const failed = endedJob('failed');
    const done = endedJob('completed');
    const markdown = summaryMarkdown('mcp-jobs', [done, failed], T0);
    const reasons = markdown.split('\n').filter((l) => l.startsWith('- '));
    expect(reasons).toEqual([`- \`${failed.jobId}\`: boom`]);
  });

  it('shows a dash for a job without a task', () => {
    const markdown = summaryMarkdown('mcp-jobs', [queuedJob()], T0);
    expect(markdown).toContain('| queued | – |');
  });
});

describe('aggregateStatus', () => {
  const inStatus = (status: JobRecord['status']): JobRecord => ({ ...runningJob(), status });

  it.each([
    [['completed', 'completed'], 'completed'],
    [['completed', 'failed', 'canceled'], 'failed'],
    [['canceled', 'running', 'completed'], 'canceled'],
    [['running', 'input_required'], 'input_required'],
    [['queued', 'running'], 'running'],
    [['completed', 'queued'], 'queued'],
  ] as Array<[JobRecord['status'][], JobRecord['status']]>)('reads %j as %s', (statuses, expected) => {
    expect(aggregateStatus(statuses.map(inStatus))).toBe(expected);
    expect(aggregateStatus([...statuses].reverse().map(inStatus))).toBe(expected);
  });
});

describe('writeFanInOutputs', () => {
  it('maps every result output by job and aggregates the status', async () => {
    const result = { content: [{ type: 'text', text: 'one' }], structuredContent: { n: 1 } };
    const done = completedWith(result, 30);
    const failed = runningJob({}, 'task-2');
    const failedEnded = applyChange(
      failed,
      { status: 'failed', error: { code: 'TASK_FAILED', message: 'no' } },
      new Date(T0.getTime() + 50_000),
    ).record;
    const host = new FakeHost();
    await writeFanInOutputs(host, stateDir, [done, failedEnded], new Date(T0.getTime() + 100_000));

    const outputs = Object.fromEntries(host.outputs);
    expect(outputs['job-id']).toBe(`${done.jobId},${failedEnded.jobId}`);
    expect(outputs['task-id']).toBe('task-1,task-2');
    expect(outputs.status).toBe('failed');
    expect(JSON.parse(outputs.statuses!)).toEqual({ [done.jobId]: 'completed', [failedEnded.jobId]: 'failed' });
    expect(JSON.parse(outputs.result!)).toEqual({ [done.jobId]: result, [failedEnded.jobId]: null });
    expect(JSON.parse(outputs.text!)).toEqual({ [done.jobId]: 'one', [failedEnded.jobId]: '' });
    expect(JSON.parse(outputs['structured-content']!)).toEqual({ [done.jobId]: { n: 1 }, [failedEnded.jobId]: null });
    expect(outputs['is-error']).toBe('true');
    expect(outputs['duration-seconds']).toBe('50.000');
    expect(JSON.parse(await readFile(outputs['result-file']!, 'utf8'))).toEqual({
      [done.jobId]: result,
      [failedEnded.jobId]: null,
    });
  });

  it('leaves the result outputs empty, with a warning, when over the limit', async () => {
    const big = completedWith({ content: [{ type: 'text', text: 'z'.repeat(OUTPUT_LIMIT_BYTES) }] });
    const host = new FakeHost();
    await writeFanInOutputs(host, stateDir, [big, completedWith({ content: [] })], T0);
    expect(host.outputs.get('result')).toBe('');
    expect(host.outputs.get('text')).toBe('');
    expect(host.outputs.get('status')).toBe('completed');
    expect(host.warnings).toHaveLength(2);
    const file = host.outputs.get('result-file')!;
    expect(host.warnings[0]).toContain(file);
    expect(JSON.parse(await readFile(file, 'utf8'))[big.jobId]).toEqual(big.result);
  });
});

describe('result files', () => {
  const ownerOnly = async (file: string) => expect((await stat(file)).mode & 0o077).toBe(0);

  it('are readable by the owner only, like job records', async () => {
    const one = completedWith({ content: [{ type: 'text', text: 'one' }] });
    const host = new FakeHost();
    await writeResultOutputs(host, stateDir, one, T0);
    await ownerOnly(host.outputs.get('result-file')!);
    const fanIn = new FakeHost();
    await writeFanInOutputs(fanIn, stateDir, [one, completedWith({ content: [] })], T0);
    await ownerOnly(fanIn.outputs.get('result-file')!);
  });

  it('of a large result are the file the local store keeps it in, in the same text', async () => {
    const store = new LocalJobStore(stateDir);
    const job = completedWith({ content: [{ type: 'text', text: 'q'.repeat(RESULT_INLINE_LIMIT_BYTES) }] });
    await store.put(job);
    const stored = (await store.get('default', job.jobId))!;
    expect(stored.resultRef).toBeDefined();
    const before = await readFile(store.resultPathOf('default', job.jobId), 'utf8');
    const host = new FakeHost();
    // The step reads the result through the store before it reports the job.
    await writeResultOutputs(host, stateDir, { ...stored, result: await store.result(stored) }, T0);
    expect(host.outputs.get('result-file')).toBe(store.resultPathOf('default', job.jobId));
    expect(await readFile(store.resultPathOf('default', job.jobId), 'utf8')).toBe(before);
    expect(await store.result(stored)).toEqual(job.result);
    await ownerOnly(host.outputs.get('result-file')!);
  });
});
