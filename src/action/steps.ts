/**
 * The steps behind the entry points: each parses its inputs, runs one job-core command, and reports the job as
 * outputs, a job-summary table and (on failure) an error annotation.
 */
import { cancelJob } from '../core/commands/cancel.js';
import { resolveJob } from '../core/commands/context.js';
import { showJob } from '../core/commands/show.js';
import { submitJob } from '../core/commands/submit.js';
import { waitJob, type WaitRequest, type WaitResult } from '../core/commands/wait.js';
import { describeError, isJobError, JobError } from '../core/errors.js';
import { formatDuration } from '../core/parse.js';
import type { JobStore } from '../core/ports.js';
import { serverName, type JobRecord } from '../core/record.js';
import { isTerminal } from '../core/status.js';
import { inert } from '../core/text.js';
import { commandContext, githubProvenance } from './context.js';
import type { ActionHost } from './host.js';
import {
  aggregateStatus,
  isErrorResult,
  resultText,
  summaryMarkdown,
  writeFanInOutputs,
  writeIdentity,
  writeResultOutputs,
} from './report.js';
import {
  callSettings,
  cancelSettings,
  commonSettings,
  showSettings,
  submitSettings,
  waitSettings,
  type CommonSettings,
  type SubmitSettings,
  type WaitOptions,
} from './settings.js';
import { maskServerUrl } from './secrets.js';
import { onStopSignals, type Interrupt } from './signals.js';

/** State the main step leaves for its post step (`STATE_*`). */
export const STATE = {
  entry: 'entry',
  jobId: 'job-id',
  instance: 'instance',
  stateDir: 'state-dir',
  /** Set when main ended on its own, whatever the outcome: the post step then has nothing to clean up. */
  done: 'main-done',
} as const;

async function submitAndReport(
  host: ActionHost,
  settings: SubmitSettings,
  interrupt: Interrupt,
  title: string,
  inProcess = false,
): Promise<JobRecord> {
  const ctx = commandContext(host, settings, {
    fallback: settings.fallback,
    inProcess,
    ...(settings.inputResponses === undefined ? {} : { inputResponses: settings.inputResponses }),
  });
  for (const path of settings.redactUnmatched) {
    host.log.warning(
      `Input 'redact': '${inert(path)}' names nothing in the arguments, so nothing is redacted for it (check the spelling: auth.password for a nested key, items.0.token for one element of an array, items[].token for every element)`,
    );
  }
  try {
    const job = await submitJob(ctx, {
      ...(settings.jobKey === undefined ? {} : { jobKey: settings.jobKey }),
      reuseTerminal: settings.reuseTerminal,
      instance: settings.instance,
      server: {
        url: settings.server,
        headers: settings.headers,
        protocol: settings.protocol,
        ...(settings.stdio === undefined ? {} : { stdio: settings.stdio }),
      },
      tool: settings.tool,
      arguments: settings.arguments,
      redact: settings.redact,
      github: githubProvenance(host),
      interrupt: interrupt.signal,
      ...(settings.ttlMs === undefined ? {} : { ttlMs: settings.ttlMs }),
      ...(settings.timeoutMs === undefined ? {} : { deadline: new Date(Date.now() + settings.timeoutMs) }),
    });
    writeIdentity(host, job);
    host.log.info(
      job.kind === 'call'
        ? `Submitted ${job.jobId} (a plain call${job.runner === undefined ? ' in this step' : ` held by the job runner, pid ${job.runner.pid}`}): ${job.status}`
        : `Submitted ${job.jobId} (task ${inert(job.remote?.taskId ?? 'none')}${job.runner === undefined ? '' : `, held by the job runner, pid ${job.runner.pid}`}): ${job.status}`,
    );
    return job;
  } catch (error) {
    // The failed job is recorded: point the outputs and the summary at it before reporting the error.
    if (isJobError(error) && error.jobId !== undefined) {
      const job = await ctx.store.get(settings.instance, error.jobId).catch(() => undefined);
      if (job !== undefined) {
        writeIdentity(host, job);
        await host.summary(summaryMarkdown(title, [job], new Date()));
      }
    }
    throw error;
  }
}

function rememberForPost(
  host: ActionHost,
  entry: 'wait' | 'call' | 'submit',
  settings: CommonSettings,
  jobIds: string[],
): void {
  host.saveState(STATE.entry, entry);
  host.saveState(STATE.jobId, jobIds.join(','));
  host.saveState(STATE.instance, settings.instance);
  host.saveState(STATE.stateDir, settings.stateDir);
}

export async function submitStep(host: ActionHost): Promise<void> {
  const settings = submitSettings(host);
  const interrupt = onStopSignals((m) => host.log.warning(m));
  try {
    const job = await submitAndReport(host, settings, interrupt, 'mcp-jobs submit');
    // A job the job runner holds cannot outlive this workflow job: submit's post step ends it at the job's end.
    if (job.runner !== undefined) rememberForPost(host, 'submit', settings, [job.jobId]);
    await host.summary(summaryMarkdown('mcp-jobs submit', [job], new Date()));
    if (interrupt.received() !== undefined) {
      host.fail(
        `The step was stopped by ${interrupt.received()} during submit; job ${job.jobId} is ${job.status}`,
        'mcp-jobs submit: INTERRUPTED',
      );
    }
  } finally {
    interrupt.dispose();
  }
}

/**
 * Waits for one or more jobs at once and reports them; shared by the wait step and the root action. Each job is
 * followed on its own connection (2025-11-25 tasks live in the session that created them); status changes are logged
 * as they happen, each line starting with its job ID.
 */
async function waitAndReport(
  host: ActionHost,
  settings: CommonSettings & WaitOptions,
  refs: string[],
  interrupt: Interrupt,
  title: string,
  onResolved: (jobIds: string[]) => void,
): Promise<void> {
  const ctx = commandContext(host, settings, {
    ...(settings.inputResponses === undefined ? {} : { inputResponses: settings.inputResponses }),
  });
  const known = await Promise.all(refs.map((ref) => resolveJob(ctx, settings.instance, ref)));
  // The records hold the server URLs: mask their query values before anything about the jobs is logged.
  for (const job of known) maskServerUrl(host, serverName(job.server));
  const ids = [...new Set(known.map((job) => job.jobId))];
  onResolved(ids);
  const request = (job: string): WaitRequest => ({
    instance: settings.instance,
    job,
    known: known.find((record) => record.jobId === job),
    headers: settings.headers,
    cancelOnTimeout: settings.cancelOnTimeout,
    interrupt: interrupt.signal,
    answersInput: settings.inputResponses !== undefined,
    ...(settings.timeoutMs === undefined ? {} : { timeoutMs: settings.timeoutMs }),
    ...(settings.pollFloorMs === undefined ? {} : { pollFloorMs: settings.pollFloorMs }),
  });
  const all = () => Promise.allSettled(ids.map((id) => waitJob(ctx, request(id))));
  const pending = known.filter((job) => !isTerminal(job.status));
  const settled =
    pending.length === 0
      ? await all()
      : await host.log.group(
          pending.length === 1
            ? `Waiting for ${pending[0]!.jobId} (${inert(pending[0]!.tool)}, task ${inert(pending[0]!.remote?.taskId ?? 'none')})`
            : `Waiting for ${pending.length} jobs: ${pending.map((job) => job.jobId).join(', ')}`,
          all,
        );
  // Report every job as it now stands, including those whose wait failed (server gone, bad reply)...
  const results: WaitResult[] = [];
  const records: JobRecord[] = [];
  const errors: unknown[] = [];
  for (const [i, outcome] of settled.entries()) {
    // A large result is kept beside its record (`resultRef`): the outputs read it back through the store.
    if (outcome.status === 'fulfilled') {
      const result = { ...outcome.value, record: await withResult(ctx.store, outcome.value.record) };
      results.push(result);
      records.push(result.record);
    } else {
      errors.push(outcome.reason);
      const current = await ctx.store.get(settings.instance, ids[i]!).catch(() => undefined);
      if (current !== undefined) records.push(await withResult(ctx.store, current).catch(() => current));
    }
  }
  for (const r of results) {
    if (r.fromRecord)
      host.log.info(`${r.record.jobId} had already ended ${r.record.status}; answered from the job record`);
  }
  const now = new Date();
  if (records.length === 1) await writeResultOutputs(host, settings.stateDir, records[0]!, now);
  else await writeFanInOutputs(host, settings.stateDir, records, now);
  await host.summary(summaryMarkdown(title, records, now));
  // ...then the errors of the waits themselves: the first one fails the step, the others are logged.
  if (errors.length > 0) {
    for (const error of errors.slice(1)) host.log.error(describeError(error));
    throw errors[0];
  }
  const problems = results.map((r) => ({ r, problem: failureOf(r) })).filter((p) => p.problem !== undefined);
  if (problems.length === 0) {
    host.log.info(records.map((job) => `${job.jobId} ${job.status}`).join('; '));
    return;
  }
  const message = problems.map((p) => p.problem).join('\n');
  const mustFail = problems.some((p) => p.r.end === 'interrupted' || p.r.record.cancelReason === 'signal');
  const worst = aggregateStatus(records);
  if (settings.failOnError || mustFail) host.fail(message, `mcp-jobs: job ${worst}`);
  else host.log.warning(`${message} (fail-on-error is false)`);
}

/** The record with its result, read through the store when it is kept beside the record (`resultRef`). */
async function withResult(store: JobStore, job: JobRecord): Promise<JobRecord> {
  if (job.resultRef === undefined || job.result !== undefined) return job;
  return { ...job, result: await store.result(job) };
}

/**
 * Why a finished wait is a failure, or undefined when the job completed without a tool error. Everything the server
 * chose (task ID, messages, the tool's error text) is made inert: it goes into an annotation and the log.
 */
function failureOf(result: WaitResult): string | undefined {
  const job = result.record;
  const task = inert(job.remote?.taskId ?? '');
  const duration = formatDuration(Date.parse(job.finishedAt ?? new Date().toISOString()) - Date.parse(job.createdAt));
  if (result.end === 'timeout') {
    return `Job ${job.jobId} timed out (${duration} after submit); task ${task} ${job.status === 'canceled' ? 'was canceled on the server' : `is still ${job.remoteStatus ?? job.status} on the server`}`;
  }
  if (result.end === 'interrupted') {
    return `The step was stopped and cancelling task ${task} failed; job ${job.jobId} is still ${job.status}`;
  }
  switch (job.status) {
    case 'completed':
      if (!isErrorResult(job)) return undefined;
      return `Job ${job.jobId} completed, but tool ${inert(job.tool)} reported an error (isError)${errorText(job)}`;
    case 'failed':
      return `Job ${job.jobId} failed: ${inert(job.error?.message ?? job.statusMessage ?? 'the task failed')}`;
    case 'canceled':
      return job.cancelReason === 'timeout'
        ? `Job ${job.jobId} timed out (${duration} after submit); task ${task} was canceled on the server`
        : job.cancelReason === 'signal'
          ? `The step was stopped; job ${job.jobId} was canceled (task ${inert(job.remote?.taskId ?? 'none')})`
          : `Job ${job.jobId} was canceled${job.statusMessage ? `: ${inert(job.statusMessage)}` : ''}`;
    default:
      return `Job ${job.jobId} is ${job.status}`;
  }
}

/** The start of a tool's error text, for a failure message: inert, on one line. */
function errorText(job: JobRecord): string {
  const text = resultText(job.result).trim();
  return text === '' ? '' : `: ${inert(text.length > 300 ? `${text.slice(0, 300)}…` : text)}`;
}

export async function waitStep(host: ActionHost): Promise<void> {
  const settings = waitSettings(host);
  const interrupt = onStopSignals((m) => host.log.warning(m));
  try {
    await waitAndReport(host, settings, settings.jobs, interrupt, 'mcp-jobs wait', (jobIds) =>
      rememberForPost(host, 'wait', settings, jobIds),
    );
  } finally {
    host.saveState(STATE.done, 'true');
    interrupt.dispose();
  }
}

export async function callStep(host: ActionHost): Promise<void> {
  const settings = callSettings(host);
  const interrupt = onStopSignals((m) => host.log.warning(m));
  try {
    const job = await submitAndReport(host, settings, interrupt, 'mcp-jobs', true);
    rememberForPost(host, 'call', settings, [job.jobId]);
    // timeout-minutes counts from submit: it is the deadline just recorded, not a fresh timeout for the wait.
    const { timeoutMs: _fromSubmit, ...fromDeadline } = settings;
    await waitAndReport(host, fromDeadline, [job.jobId], interrupt, 'mcp-jobs', () => undefined);
  } finally {
    host.saveState(STATE.done, 'true');
    interrupt.dispose();
  }
}

export async function cancelStep(host: ActionHost): Promise<void> {
  const settings = cancelSettings(host);
  const ctx = commandContext(host, settings);
  // Resolved here (not only in cancelJob) to mask the record's server URL before anything names it; the job is then
  // passed by ID, so `latest` cannot turn into another job in between.
  const job = await resolveJob(ctx, settings.instance, settings.job);
  maskServerUrl(host, serverName(job.server));
  let result;
  try {
    result = await cancelJob(ctx, {
      instance: settings.instance,
      job: job.jobId,
      headers: settings.headers,
      ...(settings.reason === undefined ? {} : { reason: settings.reason }),
    });
  } catch (error) {
    // What the server answered is the outcome to report: the outputs say where the job stands, then the step fails.
    const current = (await ctx.store.get(settings.instance, job.jobId).catch(() => undefined)) ?? job;
    writeIdentity(host, current);
    await host.summary(summaryMarkdown('mcp-jobs cancel', [current], new Date()));
    throw error;
  }
  const { record, sent } = result;
  writeIdentity(host, record);
  await host.summary(summaryMarkdown('mcp-jobs cancel', [record], new Date()));
  if (!sent && isTerminal(record.status))
    host.log.notice(`${record.jobId} had already ended ${record.status}; nothing was cancelled`);
}

/**
 * The post step of `wait` and of the root action: when main was killed before the job ended (SIGKILL after the
 * runner's grace period, a crash), cancel the remote task so nothing is left running.
 */
export async function postStep(host: ActionHost): Promise<void> {
  if (host.state(STATE.entry) === 'submit') return submitPostStep(host);
  if (host.state(STATE.done) === 'true') return;
  const jobIds = host
    .state(STATE.jobId)
    .split(',')
    .filter((id) => id !== '');
  const entry = host.state(STATE.entry);
  if (jobIds.length === 0 || (entry !== 'wait' && entry !== 'call')) {
    host.log.info('mcp-jobs post: main did not start a wait; nothing to clean up');
    return;
  }
  // The inputs are main's; where main wrote its records is in the state it left.
  const settings = { ...commonSettings(host, entry), stateDir: host.state(STATE.stateDir) };
  const instance = host.state(STATE.instance);
  const ctx = commandContext(host, settings);
  const cleaned: JobRecord[] = [];
  for (const jobId of jobIds) {
    const job = await ctx.store.get(instance, jobId);
    if (job === undefined)
      throw new JobError('JOB_NOT_FOUND', `mcp-jobs post: job ${jobId} is not in ${ctx.store.description}`, { jobId });
    maskServerUrl(host, serverName(job.server));
    if (isTerminal(job.status)) {
      host.log.info(`mcp-jobs post: ${jobId} already ended ${job.status}`);
      continue;
    }
    host.log.warning(
      `mcp-jobs post: the main step ended before ${jobId} did; cancelling task ${inert(job.remote?.taskId ?? 'none')}`,
    );
    const { record } = await cancelJob(ctx, {
      instance,
      job: jobId,
      headers: settings.headers,
      cancelReason: 'signal',
      reason: 'the step was stopped',
    });
    cleaned.push(record);
  }
  if (cleaned.length > 0) await host.summary(summaryMarkdown('mcp-jobs cleanup', cleaned, new Date()));
}

/**
 * show: where one or more jobs stand, without waiting. An ended record is reported as it is; one that has not ended
 * is looked up on the server once (tasks/get). A job still running is an answer, not a failure; a server that
 * cannot be reached is a warning (the outputs are the record as last stored).
 */
export async function showStep(host: ActionHost): Promise<void> {
  const settings = showSettings(host);
  const ctx = commandContext(host, settings);
  const known = await Promise.all(settings.jobs.map((ref) => resolveJob(ctx, settings.instance, ref)));
  for (const job of known) maskServerUrl(host, serverName(job.server));
  const ids = [...new Set(known.map((job) => job.jobId))];
  const records: JobRecord[] = [];
  for (const id of ids) {
    const { record } = await showJob(ctx, { instance: settings.instance, job: id, headers: settings.headers });
    records.push(await withResult(ctx.store, record));
    host.log.info(
      `${record.jobId}: ${record.status}${record.remoteStatus === undefined ? '' : ` (remote ${record.remoteStatus})`}${record.statusMessage === undefined ? '' : `: ${inert(record.statusMessage)}`}`,
    );
  }
  const now = new Date();
  const first = records[0]!;
  host.setOutput(
    'remote-status',
    records.length === 1
      ? (first.remoteStatus ?? '')
      : JSON.stringify(Object.fromEntries(records.map((r) => [r.jobId, r.remoteStatus ?? null]))),
  );
  host.setOutput(
    'status-message',
    records.length === 1
      ? (first.statusMessage ?? '')
      : JSON.stringify(Object.fromEntries(records.map((r) => [r.jobId, r.statusMessage ?? null]))),
  );
  const ended = records.every((job) => isTerminal(job.status));
  host.setOutput('ended', String(ended));
  if (records.length === 1) {
    if (ended) await writeResultOutputs(host, settings.stateDir, first, now);
    else writeIdentity(host, first);
  } else if (ended) await writeFanInOutputs(host, settings.stateDir, records, now);
  else {
    writeIdentity(host, first);
    host.setOutput('job-id', ids.join(','));
    host.setOutput('status', aggregateStatus(records));
    host.setOutput('statuses', JSON.stringify(Object.fromEntries(records.map((r) => [r.jobId, r.status]))));
  }
  await host.summary(summaryMarkdown('mcp-jobs show', records, now));
}

/** Why submit's post step cancels the jobs the job runner still holds. */
export const WORKFLOW_JOB_ENDED = 'the workflow job ended';

/**
 * The post step of `submit`, at the end of the workflow job: the GitHub runner is about to kill every process the
 * job started, the job runner included. Its jobs that are still running are cancelled now, with the reason
 * recorded, and the job runner then exits cleanly. Jobs on HTTP task servers are not touched: they outlive the job.
 */
async function submitPostStep(host: ActionHost): Promise<void> {
  const instance = host.state(STATE.instance);
  const stateDir = host.state(STATE.stateDir);
  const settings = { ...commonSettings(host, 'submit'), stateDir, instance };
  const ctx = commandContext(host, settings);
  const { cancelRunnerJobs } = await import('../runner/client.js');
  const ended = await cancelRunnerJobs(
    {
      stateDir,
      instance,
      store: settings.store,
      retentionDays: settings.retentionDays,
      records: ctx.store,
      fallback: 'background',
      env: process.env,
    },
    WORKFLOW_JOB_ENDED,
  );
  if (ended.length === 0) {
    host.log.info('mcp-jobs post: the job runner holds no running job');
    return;
  }
  const records: JobRecord[] = [];
  for (const jobId of ended) {
    const job = await ctx.store.get(instance, jobId).catch(() => undefined);
    if (job === undefined) continue;
    host.log.warning(
      `mcp-jobs post: ${jobId} was still ${job.status === 'canceled' ? 'running' : job.status} when the workflow job ended; it was canceled`,
    );
    records.push(job);
  }
  if (records.length > 0) await host.summary(summaryMarkdown('mcp-jobs cleanup', records, new Date()));
}
