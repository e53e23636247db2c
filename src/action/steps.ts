/**
 * The steps behind the entry points: each parses its inputs, runs one job-core command, and reports the job as
 * outputs, a job-summary table and (on failure) an error annotation.
 */
import { cancelJob } from '../core/commands/cancel.js';
import { resolveJob } from '../core/commands/context.js';
import { submitJob } from '../core/commands/submit.js';
import { waitJob, type WaitResult } from '../core/commands/wait.js';
import { isJobError, JobError } from '../core/errors.js';
import { formatDuration } from '../core/parse.js';
import type { JobRecord } from '../core/record.js';
import { isTerminal } from '../core/status.js';
import { commandContext, githubProvenance } from './context.js';
import type { ActionHost } from './host.js';
import { isErrorResult, summaryMarkdown, writeIdentity, writeResultOutputs } from './report.js';
import {
  callSettings,
  cancelSettings,
  commonSettings,
  submitSettings,
  waitSettings,
  type CommonSettings,
  type SubmitSettings,
  type WaitOptions,
} from './settings.js';
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
): Promise<JobRecord> {
  const ctx = commandContext(host, settings.stateDir);
  try {
    const job = await submitJob(ctx, {
      instance: settings.instance,
      server: { url: settings.server, headers: settings.headers },
      tool: settings.tool,
      arguments: settings.arguments,
      redact: settings.redact,
      github: githubProvenance(host),
      interrupt: interrupt.signal,
      ...(settings.ttlMs === undefined ? {} : { ttlMs: settings.ttlMs }),
      ...(settings.timeoutMs === undefined ? {} : { deadline: new Date(Date.now() + settings.timeoutMs) }),
    });
    writeIdentity(host, job);
    host.log.info(`Submitted ${job.jobId} (task ${job.remote?.taskId ?? 'none'}): ${job.status}`);
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

function rememberForPost(host: ActionHost, entry: 'wait' | 'call', settings: CommonSettings, jobId: string): void {
  host.saveState(STATE.entry, entry);
  host.saveState(STATE.jobId, jobId);
  host.saveState(STATE.instance, settings.instance);
  host.saveState(STATE.stateDir, settings.stateDir);
}

export async function submitStep(host: ActionHost): Promise<void> {
  const settings = submitSettings(host);
  const interrupt = onStopSignals((m) => host.log.warning(m));
  try {
    const job = await submitAndReport(host, settings, interrupt, 'mcp-jobs submit');
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

/** Waits for a job and reports it; shared by the wait step and the root action. */
async function waitAndReport(
  host: ActionHost,
  settings: CommonSettings & WaitOptions,
  job: string,
  interrupt: Interrupt,
  title: string,
  onResolved: (jobId: string) => void,
): Promise<void> {
  const ctx = commandContext(host, settings.stateDir, settings.pollFloorMs);
  const known = await resolveJob(ctx, settings.instance, job);
  onResolved(known.jobId);
  const request = {
    instance: settings.instance,
    job: known.jobId,
    headers: settings.headers,
    cancelOnTimeout: settings.cancelOnTimeout,
    interrupt: interrupt.signal,
    ...(settings.timeoutMs === undefined ? {} : { timeoutMs: settings.timeoutMs }),
    ...(settings.pollFloorMs === undefined ? {} : { pollFloorMs: settings.pollFloorMs }),
  };
  let result: WaitResult;
  try {
    result = isTerminal(known.status)
      ? await waitJob(ctx, request)
      : await host.log.group(`Waiting for ${known.jobId} (${known.tool}, task ${known.remote?.taskId ?? 'none'})`, () =>
          waitJob(ctx, request),
        );
  } catch (error) {
    // The wait itself failed (server gone, bad reply): report the job as recorded, then the error.
    const current = await ctx.store.get(settings.instance, known.jobId).catch(() => undefined);
    if (current !== undefined) {
      await writeResultOutputs(host, settings.stateDir, current, new Date());
      await host.summary(summaryMarkdown(title, [current], new Date()));
    }
    throw error;
  }
  const record = result.record;
  if (result.fromRecord)
    host.log.info(`${record.jobId} had already ended ${record.status}; answered from the job record`);
  await writeResultOutputs(host, settings.stateDir, record, new Date());
  await host.summary(summaryMarkdown(title, [record], new Date()));
  const problem = failureOf(result);
  if (problem === undefined) {
    host.log.info(`${record.jobId} ${record.status}`);
    return;
  }
  if (settings.failOnError || result.end === 'interrupted' || record.cancelReason === 'signal') {
    host.fail(problem, `mcp-jobs: job ${record.status}`);
  } else {
    host.log.warning(`${problem} (fail-on-error is false)`);
  }
}

/** Why a finished wait is a failure, or undefined when the job completed without a tool error. */
function failureOf(result: WaitResult): string | undefined {
  const job = result.record;
  const duration = formatDuration(Date.parse(job.finishedAt ?? new Date().toISOString()) - Date.parse(job.createdAt));
  if (result.end === 'timeout') {
    return `Job ${job.jobId} timed out after ${duration}; task ${job.remote?.taskId ?? ''} ${job.status === 'canceled' ? 'was canceled on the server' : `is still ${job.remoteStatus ?? job.status} on the server`}`;
  }
  if (result.end === 'interrupted') {
    return `The step was stopped and cancelling task ${job.remote?.taskId ?? ''} failed; job ${job.jobId} is still ${job.status}`;
  }
  switch (job.status) {
    case 'completed':
      return isErrorResult(job)
        ? `Job ${job.jobId} completed, but tool ${job.tool} reported an error (isError)`
        : undefined;
    case 'failed':
      return `Job ${job.jobId} failed: ${job.error?.message ?? job.statusMessage ?? 'the task failed'}`;
    case 'canceled':
      return job.cancelReason === 'timeout'
        ? `Job ${job.jobId} timed out after ${duration}; task ${job.remote?.taskId ?? ''} was canceled on the server`
        : job.cancelReason === 'signal'
          ? `The step was stopped; job ${job.jobId} was canceled (task ${job.remote?.taskId ?? 'none'})`
          : `Job ${job.jobId} was canceled${job.statusMessage ? `: ${job.statusMessage}` : ''}`;
    default:
      return `Job ${job.jobId} is ${job.status}`;
  }
}

export async function waitStep(host: ActionHost): Promise<void> {
  const settings = waitSettings(host);
  const interrupt = onStopSignals((m) => host.log.warning(m));
  try {
    await waitAndReport(host, settings, settings.job, interrupt, 'mcp-jobs wait', (jobId) =>
      rememberForPost(host, 'wait', settings, jobId),
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
    const job = await submitAndReport(host, settings, interrupt, 'mcp-jobs');
    rememberForPost(host, 'call', settings, job.jobId);
    // timeout-minutes counts from submit: it is the deadline just recorded, not a fresh timeout for the wait.
    const { timeoutMs: _fromSubmit, ...fromDeadline } = settings;
    await waitAndReport(host, fromDeadline, job.jobId, interrupt, 'mcp-jobs', () => undefined);
  } finally {
    host.saveState(STATE.done, 'true');
    interrupt.dispose();
  }
}

export async function cancelStep(host: ActionHost): Promise<void> {
  const settings = cancelSettings(host);
  const ctx = commandContext(host, settings.stateDir);
  const { record, sent } = await cancelJob(ctx, {
    instance: settings.instance,
    job: settings.job,
    headers: settings.headers,
    ...(settings.reason === undefined ? {} : { reason: settings.reason }),
  });
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
  if (host.state(STATE.done) === 'true') return;
  const jobId = host.state(STATE.jobId);
  const entry = host.state(STATE.entry);
  if (jobId === '' || (entry !== 'wait' && entry !== 'call')) {
    host.log.info('mcp-jobs post: main did not start a wait; nothing to clean up');
    return;
  }
  const headers = commonSettings(host, entry).headers;
  const ctx = commandContext(host, host.state(STATE.stateDir));
  const instance = host.state(STATE.instance);
  const job = await ctx.store.get(instance, jobId);
  if (job === undefined)
    throw new JobError('JOB_NOT_FOUND', `mcp-jobs post: job ${jobId} is not in ${ctx.store.description}`, { jobId });
  if (isTerminal(job.status)) {
    host.log.info(`mcp-jobs post: ${jobId} already ended ${job.status}`);
    return;
  }
  host.log.warning(
    `mcp-jobs post: the main step ended before ${jobId} did; cancelling task ${job.remote?.taskId ?? 'none'}`,
  );
  const { record } = await cancelJob(ctx, {
    instance,
    job: jobId,
    headers,
    cancelReason: 'signal',
    reason: 'the step was stopped',
  });
  await host.summary(summaryMarkdown('mcp-jobs cleanup', [record], new Date()));
}
