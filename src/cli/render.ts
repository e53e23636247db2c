/**
 * What the CLI prints: a job, a list of jobs, the tools, as human lines or as JSON (snake_case fields; the schema is
 * in the README). Pure. Server text in human output is made inert (no control characters, no line breaks, no
 * workflow commands): a `run:` step's output is read by the runner too.
 */
import type { ToolInfo } from '../core/ports.js';
import { serverName, type JobRecord } from '../core/record.js';
import { isErrorResult, resultText, structuredContent } from '../core/result.js';
import { inert } from '../core/text.js';
import type { JobUpdate } from '../core/commands/watch.js';

/** The JSON form of a job (`data` of show, wait, call, cancel; an element of `jobs list`). */
export interface JobJson {
  job_id: string;
  instance: string;
  tool: string;
  status: string;
  remote_status: string | null;
  status_message: string | null;
  task_id: string | null;
  kind: 'task' | 'call';
  server: string;
  arguments: unknown;
  redacted_arguments: string[];
  job_key: string | null;
  created_at: string;
  updated_at: string;
  started_at: string | null;
  finished_at: string | null;
  deadline: string | null;
  cancel_reason: string | null;
  remote: { task_id: string; status: string | null; status_message: string | null; generation: string } | null;
  is_error: boolean;
  result?: unknown;
  structured_content?: unknown;
  error: { code: string; message: string } | null;
}

export function jobJson(job: JobRecord, options: { withResult?: boolean } = {}): JobJson {
  const out: JobJson = {
    job_id: job.jobId,
    instance: job.instance,
    tool: job.tool,
    status: job.status,
    remote_status: job.remoteStatus ?? null,
    status_message: job.statusMessage ?? null,
    task_id: job.remote?.taskId ?? null,
    kind: job.kind ?? 'task',
    server: serverName(job.server),
    arguments: job.arguments,
    redacted_arguments: job.redactedArguments,
    job_key: job.jobKey ?? null,
    created_at: job.createdAt,
    updated_at: job.updatedAt,
    started_at: job.startedAt ?? null,
    finished_at: job.finishedAt ?? null,
    deadline: job.deadline ?? null,
    cancel_reason: job.cancelReason ?? null,
    remote:
      job.remote === undefined
        ? null
        : {
            task_id: job.remote.taskId,
            status: job.remoteStatus ?? null,
            status_message: job.statusMessage ?? null,
            generation: job.remote.generation,
          },
    is_error: job.status === 'completed' ? isErrorResult(job) : job.status === 'failed',
    error: job.error === undefined ? null : { code: job.error.code, message: job.error.message },
  };
  if (options.withResult !== false) {
    out.result = job.result ?? null;
    out.structured_content = structuredContent(job.result) ?? null;
  }
  return out;
}

/** `jobs list`: one line per job, `job_id tool status task_id created_at`, in aligned columns. */
export function listLines(jobs: JobRecord[]): string[] {
  const rows = jobs.map((job) => [
    job.jobId,
    inert(job.tool),
    job.status,
    inert(job.remote?.taskId ?? '-'),
    job.createdAt,
  ]);
  const widths = [0, 1, 2, 3].map((c) => Math.max(0, ...rows.map((r) => r[c]!.length)));
  return rows.map((r) => r.map((cell, c) => (c < 4 ? cell.padEnd(widths[c]!) : cell)).join('  '));
}

/** The seed's first line of `jobs show`: `status: running, remote status: running`. */
export function statusSummary(job: JobRecord): string {
  return `status: ${job.status}, remote status: ${job.remoteStatus === undefined ? 'unknown' : job.remoteStatus}`;
}

/** `jobs show` (and the end of wait): the job as a block of `name: value` lines. */
export function showLines(job: JobRecord, stale?: string): string[] {
  const lines = [statusSummary(job)];
  const add = (name: string, value: string | undefined): void => {
    if (value !== undefined && value !== '') lines.push(`${name}: ${value}`);
  };
  if (stale !== undefined)
    add('note', `the server was not reached, this is the job as last recorded (${inert(stale)})`);
  add('status message', job.statusMessage === undefined ? undefined : inert(job.statusMessage));
  add('job', job.jobId);
  add('tool', inert(job.tool));
  add('arguments', inert(JSON.stringify(job.arguments)));
  add('task', job.remote === undefined ? undefined : inert(job.remote.taskId));
  add('server', inert(serverName(job.server)));
  add('created', job.createdAt);
  add('started', job.startedAt);
  add('finished', job.finishedAt);
  add('deadline', job.deadline);
  add('cancel reason', job.cancelReason);
  if (job.error !== undefined) add('error', `${job.error.code}: ${inert(job.error.message)}`);
  if (job.result !== undefined) lines.push(...resultLines(job));
  return lines;
}

/** A result for people: its text blocks (each line inert), or its JSON when it has no text. */
export function resultLines(job: JobRecord): string[] {
  const text = resultText(job.result);
  const label = isErrorResult(job) && job.status === 'completed' ? 'result (the tool reported an error)' : 'result';
  if (text !== '') return [`${label}:`, ...text.split(/\r\n|\n/).map((line) => `  ${inert(line)}`)];
  return [`${label}: ${inert(JSON.stringify(job.result))}`];
}

/** `mcp-jobs tools`: one line per tool, `name  task support  description`. */
export function toolLines(tools: ToolInfo[]): string[] {
  const width = Math.max(0, ...tools.map((t) => inert(t.name).length));
  return tools.map((tool) => {
    const about =
      tool.description === undefined ? '' : `  ${inert(tool.description.split('\n')[0] ?? '').slice(0, 100)}`;
    return `${inert(tool.name).padEnd(width)}  tasks: ${tool.taskSupport.padEnd(9)}${about}`;
  });
}

export function toolJson(tool: ToolInfo): object {
  return {
    name: tool.name,
    description: tool.description ?? null,
    task_support: tool.taskSupport,
    input_schema: tool.inputSchema,
  };
}

/** A `jobs watch` line for people: the status change, with the server's message. */
export function updateLine(update: JobUpdate): string {
  const job = update.record;
  const remote = job.remoteStatus === undefined ? '' : ` (remote ${job.remoteStatus})`;
  const message = job.statusMessage === undefined ? '' : `: ${inert(job.statusMessage)}`;
  return `${job.updatedAt} ${job.jobId} ${job.status}${remote}${message}`;
}

/** A `jobs watch --json` line: one `job_update` event. */
export function updateJson(update: JobUpdate): string {
  return JSON.stringify({
    event: 'job_update',
    phase: update.phase,
    at: update.record.updatedAt,
    data: jobJson(update.record, { withResult: update.phase === 'end' }),
  });
}
