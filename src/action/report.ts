/**
 * What a step tells the workflow about a job: outputs, the result file, the job summary row and failure
 * annotations. Large values go only to the result file: a single output is limited to 1 MiB by the runner.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { formatDuration } from '../core/parse.js';
import { durationSeconds, resultFileText, type JobRecord } from '../core/record.js';
import type { JobStatus } from '../core/status.js';
import { isErrorResult, resultText, structuredContent } from '../core/result.js';
import { escapeMarkdown, markdownCode } from '../core/text.js';
import { replaceFile } from '../store/files.js';
import type { ActionHost } from './host.js';

/** Outputs above this many bytes are left empty; the full value is in `result-file`. */
export const OUTPUT_LIMIT_BYTES = 256 * 1024;

export { isErrorResult, resultText } from '../core/result.js';

function resultPath(stateDir: string, record: JobRecord): string {
  return join(stateDir, 'instances', record.instance, 'results', `${record.jobId}.json`);
}

/**
 * Writes the result file and returns its path, or '' when the job has no result. The record's result must have been
 * read through the store (a large one is kept beside the record): this is the same file, in the same text, the
 * local store keeps such a result in.
 */
async function writeResultFile(stateDir: string, record: JobRecord): Promise<string> {
  if (record.result === undefined) return '';
  const path = resultPath(stateDir, record);
  await mkdir(join(stateDir, 'instances', record.instance, 'results'), { recursive: true });
  await replaceFile(path, resultFileText(record.result));
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
  host.setOutput('statuses', JSON.stringify({ [record.jobId]: record.status }));
  const file = await writeResultFile(stateDir, record);
  const structured = structuredContent(record.result);
  setBounded(host, file, record.jobId, [
    ['result', record.result === undefined ? '' : JSON.stringify(record.result)],
    ['text', resultText(record.result)],
    ['structured-content', structured === undefined ? '' : JSON.stringify(structured)],
  ]);
  host.setOutput('is-error', String(isErrorResult(record)));
  host.setOutput('result-file', file);
  host.setOutput('duration-seconds', durationSeconds(record, now).toFixed(3));
}

/** The status of several jobs as one: `completed` only when all completed, else the most serious status among them. */
export function aggregateStatus(records: JobRecord[]): JobStatus {
  const order: JobStatus[] = ['failed', 'canceled', 'input_required', 'running', 'queued', 'completed'];
  return order.find((status) => records.some((r) => r.status === status)) ?? 'completed';
}

/**
 * The outputs of a wait on several jobs: `status` is the aggregate, `statuses` maps each job to its status, the
 * result outputs map each job ID to its value, and `result-file` holds every result by job ID.
 */
export async function writeFanInOutputs(
  host: ActionHost,
  stateDir: string,
  records: JobRecord[],
  now: Date,
): Promise<void> {
  const byJob = <T>(value: (r: JobRecord) => T): string =>
    JSON.stringify(Object.fromEntries(records.map((r) => [r.jobId, value(r)])));
  host.setOutput('job-id', records.map((r) => r.jobId).join(','));
  host.setOutput('task-id', records.map((r) => r.remote?.taskId ?? '').join(','));
  host.setOutput('status', aggregateStatus(records));
  host.setOutput(
    'statuses',
    byJob((r) => r.status),
  );
  const dir = join(stateDir, 'results');
  await mkdir(dir, { recursive: true });
  const file = join(dir, `wait-${now.getTime()}-${process.pid}.json`);
  await replaceFile(file, `${byJob((r) => r.result ?? null)}\n`);
  setBounded(host, file, 'these jobs', [
    ['result', byJob((r) => r.result ?? null)],
    ['text', byJob((r) => resultText(r.result))],
    ['structured-content', byJob((r) => structuredContent(r.result) ?? null)],
  ]);
  host.setOutput('is-error', String(records.some(isErrorResult)));
  host.setOutput('result-file', file);
  host.setOutput('duration-seconds', Math.max(0, ...records.map((r) => durationSeconds(r, now))).toFixed(3));
}

/** Sets outputs, leaving any over the limit empty with a warning that points at the result file. */
function setBounded(host: ActionHost, file: string, what: string, values: Array<[string, string]>): void {
  for (const [name, value] of values) {
    const bytes = Buffer.byteLength(value, 'utf8');
    if (bytes > OUTPUT_LIMIT_BYTES) {
      host.log.warning(
        `Output '${name}' of ${what} would be ${bytes} bytes, over the ${OUTPUT_LIMIT_BYTES}-byte limit: it is left empty; read the full result from result-file (${file})`,
      );
      host.setOutput(name, '');
    } else {
      host.setOutput(name, value);
    }
  }
}

/**
 * One markdown table of jobs for the step summary, with each failure's reason under it. Only the job ID, status,
 * cancel reason and duration are ours; everything else (the tool name, the task ID the server chose, error messages,
 * which quote the server) is escaped, so it shows as text and cannot become a link, an image, HTML or a table cell.
 */
export function summaryMarkdown(title: string, records: JobRecord[], now: Date): string {
  const rows = records.map(
    (r) =>
      `| \`${r.jobId}\` | ${escapeMarkdown(r.tool)} | ${r.status}${r.cancelReason ? ` (${r.cancelReason})` : ''} | ${r.remote ? markdownCode(r.remote.taskId) : '–'} | ${formatDuration(durationSeconds(r, now) * 1000)} |`,
  );
  const reasons = records
    .filter((r) => r.error !== undefined)
    .map((r) => `- \`${r.jobId}\`: ${escapeMarkdown(r.error!.message)}`);
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
