/**
 * What a step tells the workflow about a job: outputs, the result file, the job summary row and failure
 * annotations. Large values go only to the result file: a single output is limited to 1 MiB by the runner.
 */
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { formatDuration } from '../core/parse.js';
import { durationSeconds, type JobRecord } from '../core/record.js';
import type { ActionHost } from './host.js';

/** Outputs above this many bytes are left empty; the full value is in `result-file`. */
export const OUTPUT_LIMIT_BYTES = 256 * 1024;

interface ToolResult {
  content?: Array<{ type?: string; text?: string }>;
  structuredContent?: unknown;
  isError?: boolean;
}

function asToolResult(value: unknown): ToolResult | undefined {
  return value !== null && typeof value === 'object' ? (value as ToolResult) : undefined;
}

/** The text blocks of a tool result, joined by newlines. */
export function resultText(result: unknown): string {
  const content = asToolResult(result)?.content;
  if (!Array.isArray(content)) return '';
  return content
    .filter((block) => block?.type === 'text' && typeof block.text === 'string')
    .map((block) => block.text)
    .join('\n');
}

/** True when the tool reported an error or the job failed. */
export function isErrorResult(record: JobRecord): boolean {
  return record.status === 'failed' || asToolResult(record.result)?.isError === true;
}

function resultPath(stateDir: string, record: JobRecord): string {
  return join(stateDir, 'instances', record.instance, 'results', `${record.jobId}.json`);
}

/** Writes the result file (atomically) and returns its path, or '' when the job has no result. */
async function writeResultFile(stateDir: string, record: JobRecord): Promise<string> {
  if (record.result === undefined) return '';
  const path = resultPath(stateDir, record);
  await mkdir(join(stateDir, 'instances', record.instance, 'results'), { recursive: true });
  const temp = `${path}.${process.pid}.tmp`;
  await writeFile(temp, `${JSON.stringify(record.result, null, 2)}\n`, 'utf8');
  await rename(temp, path);
  return path;
}

/** Sets the outputs that identify a job (submit's outputs, and the first ones of every other step). */
export function writeIdentity(host: ActionHost, record: JobRecord): void {
  host.setOutput('job-id', record.jobId);
  host.setOutput('task-id', record.remote?.taskId ?? '');
  host.setOutput('status', record.status);
}

/** Sets every result output of a job. Values over the limit are left empty with a warning naming the file. */
export async function writeResultOutputs(
  host: ActionHost,
  stateDir: string,
  record: JobRecord,
  now: Date,
): Promise<void> {
  writeIdentity(host, record);
  const file = await writeResultFile(stateDir, record);
  const result = record.result === undefined ? '' : JSON.stringify(record.result);
  const structured = asToolResult(record.result)?.structuredContent;
  const values: Array<[string, string]> = [
    ['result', result],
    ['text', resultText(record.result)],
    ['structured-content', structured === undefined ? '' : JSON.stringify(structured)],
  ];
  for (const [name, value] of values) {
    const bytes = Buffer.byteLength(value, 'utf8');
    if (bytes > OUTPUT_LIMIT_BYTES) {
      host.log.warning(
        `Output '${name}' of ${record.jobId} would be ${bytes} bytes, over the ${OUTPUT_LIMIT_BYTES}-byte limit: it is left empty; read the full result from result-file (${file})`,
      );
      host.setOutput(name, '');
    } else {
      host.setOutput(name, value);
    }
  }
  host.setOutput('is-error', String(isErrorResult(record)));
  host.setOutput('result-file', file);
  host.setOutput('duration-seconds', durationSeconds(record, now).toFixed(3));
}

const escapeCell = (value: string): string => value.replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');

/** One markdown table of jobs for the step summary, with each failure's reason under it. */
export function summaryMarkdown(title: string, records: JobRecord[], now: Date): string {
  const rows = records.map(
    (r) =>
      `| \`${r.jobId}\` | ${escapeCell(r.tool)} | ${r.status}${r.cancelReason ? ` (${r.cancelReason})` : ''} | ${r.remote ? `\`${r.remote.taskId}\`` : '–'} | ${formatDuration(durationSeconds(r, now) * 1000)} |`,
  );
  const reasons = records
    .filter((r) => r.error !== undefined)
    .map((r) => `- \`${r.jobId}\`: ${escapeCell(r.error!.message)}`);
  return [
    `### ${title}`,
    '',
    '| Job | Tool | Status | Task | Duration |',
    '| --- | --- | --- | --- | --- |',
    ...rows,
    '',
    ...(reasons.length > 0 ? [...reasons, ''] : []),
  ].join('\n');
}
