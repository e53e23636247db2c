/**
 * `job-key`, submit's idempotency key: a submit with a key that names an unfinished job adopts that job instead of
 * calling the tool again (an ended one too, with reuse-terminal).
 *
 * "Look the key up, and submit when nothing is found" would let concurrent submits with one key (a matrix, a re-run
 * racing the original) all find nothing and all submit. So the jobs of a key take turns: turn n is claimed in the
 * store with an atomic create, and exactly one claim of a turn wins. The winner submits under the job ID it claimed
 * with; every loser waits (bounded) for the winner's record and adopts it. When the job of the newest turn has ended
 * and is not to be reused, the next submit claims turn n+1.
 *
 * A key means one call: a job-key that names a job of another tool, server or arguments is refused, never silently
 * adopted. Arguments are compared as stored, redacted: a difference only in a redacted value cannot be seen.
 */
import { JobError } from '../errors.js';
import { redactArguments } from '../parse.js';
import { newJobId, serverName, type JobRecord } from '../record.js';
import { isTerminal } from '../status.js';
import type { CommandContext } from './context.js';
import type { SubmitRequest } from './submit.js';

/** How long a submit waits for the job of a key's turn to get its task before taking it for dead. */
export const JOB_KEY_WAIT_MS = 30_000;
/** Turns one submit may try to claim; more means submits keep ending their jobs as fast as they are made. */
const MAX_TURNS = 20;

export interface JobKeyClaim {
  /** The ID to record the new job under: this submit claimed its key's turn with it. */
  jobId: string;
  /** Set instead when the key names a job to adopt: submit returns it and sends nothing to the server. */
  adopted?: JobRecord;
}

/**
 * Resolves the request's job-key (undefined without one): the job to adopt, or the claimed ID to submit a new job
 * under. The caller must record the new job under that ID at once: the losers of the turn are waiting for it.
 */
export async function claimJobKey(ctx: CommandContext, req: SubmitRequest): Promise<JobKeyClaim | undefined> {
  const key = req.jobKey;
  if (key === undefined) return undefined;
  const ours = newJobId();
  const last = await ctx.store.lastClaim(req.instance, key);
  let seq = last?.seq ?? 0;
  // A key nobody claimed may still name a job recorded without a claim (by an earlier mcp-jobs version).
  let holder = last === undefined ? (await ctx.store.findByKey(req.instance, key))?.jobId : last.jobId;
  // True once another submit won a turn this one tried: its job is this submit's, even when it has ended already.
  let raced = false;
  for (let turn = 0; turn < MAX_TURNS; turn++) {
    if (holder !== undefined) {
      const job = await settle(ctx, req, key, holder, raced);
      if (job !== undefined) {
        const message = `job-key '${key}' already names job ${job.jobId} (${job.status}, task ${job.remote?.taskId ?? 'none'}): adopting it instead of submitting ${req.tool} again`;
        if (ctx.log.notice) ctx.log.notice(message);
        else ctx.log.info(message);
        return { jobId: job.jobId, adopted: job };
      }
    }
    seq += 1;
    const winner = await ctx.store.claimKey(req.instance, key, seq, ours);
    if (winner === ours) return { jobId: ours };
    holder = winner;
    raced = true;
  }
  throw new JobError(
    'STORE_UNAVAILABLE',
    `job-key '${key}': ${MAX_TURNS} turns in a row were claimed by other submits whose jobs ended at once; giving up`,
    { input: 'job-key', retryable: true },
  );
}

/**
 * The job of a key's turn once it can be adopted, or undefined when the next turn is to be claimed: it ended (and is
 * not reused) or it never got a task within JOB_KEY_WAIT_MS (its submit died before the server created one).
 */
async function settle(
  ctx: CommandContext,
  req: SubmitRequest,
  key: string,
  jobId: string,
  raced: boolean,
): Promise<JobRecord | undefined> {
  const started = ctx.clock.now().getTime();
  for (let delay = 50; ; delay = Math.min(delay * 2, 1_000)) {
    const job = await ctx.store.get(req.instance, jobId);
    if (job !== undefined) {
      refuseAnotherCall(job, req, key);
      if (isTerminal(job.status)) {
        if (raced || req.reuseTerminal === true) return job;
        ctx.log.info(
          `job-key '${key}' names job ${job.jobId}, which ended ${job.status}: submitting anew (reuse-terminal is false)`,
        );
        return undefined;
      }
      if (job.remote !== undefined) return job;
    }
    const waited = ctx.clock.now().getTime() - started;
    if (waited >= JOB_KEY_WAIT_MS && job?.callSession !== undefined) {
      // Its submit sent the call and never learned the task: the server may well run it. Adopting the job (a wait
      // finds the task in the call's session) is safe; submitting anew could run the call twice.
      ctx.log.warning(
        `job-key '${key}' names job ${jobId}, whose submit sent the call but never learned its task: adopting it (a wait looks the task up in the session the call went over)`,
      );
      return job;
    }
    if (waited >= JOB_KEY_WAIT_MS) {
      ctx.log.warning(
        `job-key '${key}' names job ${jobId}, which ${job === undefined ? 'was never recorded' : 'still has no task'} after ${JOB_KEY_WAIT_MS / 1000} s: its submit must have died before the server created one; submitting anew`,
      );
      return undefined;
    }
    try {
      await ctx.clock.sleep(Math.min(delay, JOB_KEY_WAIT_MS - waited), req.interrupt);
    } catch (error) {
      if (req.interrupt?.aborted !== true) throw error;
      throw new JobError(
        'INTERRUPTED',
        `The step was stopped while waiting for job ${jobId} of job-key '${key}' to get its task`,
        { jobId, cause: error },
      );
    }
  }
}

/** Refuses a key that names a job of another call: adopting it would return another call's result. */
function refuseAnotherCall(job: JobRecord, req: SubmitRequest, key: string): void {
  const differences: string[] = [];
  if (job.tool !== req.tool) differences.push('the tool');
  if (!sameUrl(serverName(job.server), req.server.url)) differences.push('the server');
  const at = firstDifference(job.arguments, redactArguments(req.arguments, req.redact), '');
  if (at !== undefined) differences.push(`the arguments (first at ${at === '' ? 'the top level' : `'${at}'`})`);
  if (differences.length === 0) return;
  throw new JobError(
    'INVALID_INPUT',
    `Input 'job-key': '${key}' already names job ${job.jobId}, a call of tool '${job.tool}' on ${serverName(job.server)}; this submit calls tool '${req.tool}' on ${req.server.url}: they differ in ${joinAnd(differences)}. A job-key names one call: use another key for another call (redacted argument values are not stored, so they are not compared)`,
    { input: 'job-key', jobId: job.jobId },
  );
}

function sameUrl(a: string, b: string): boolean {
  try {
    if (a.startsWith('stdio: ') || b.startsWith('stdio: ')) return a === b;
    return new URL(a).href === new URL(b).href;
  } catch {
    return a === b;
  }
}

/** The path of the first place two JSON values differ (`a.b[2]`), '' for the values themselves, or undefined. */
function firstDifference(a: unknown, b: unknown, path: string): string | undefined {
  if (a === b) return undefined;
  const objects = typeof a === 'object' && typeof b === 'object' && a !== null && b !== null;
  if (!objects || Array.isArray(a) !== Array.isArray(b)) return path;
  if (Array.isArray(a)) {
    const other = b as unknown[];
    if (a.length !== other.length) return path;
    for (let i = 0; i < a.length; i++) {
      const found = firstDifference(a[i], other[i], `${path}[${i}]`);
      if (found !== undefined) return found;
    }
    return undefined;
  }
  const x = a as Record<string, unknown>;
  const y = b as Record<string, unknown>;
  for (const name of new Set([...Object.keys(x), ...Object.keys(y)])) {
    const found = firstDifference(x[name], y[name], path === '' ? name : `${path}.${name}`);
    if (found !== undefined) return found;
  }
  return undefined;
}

function joinAnd(parts: string[]): string {
  return parts.length <= 1 ? (parts[0] ?? '') : `${parts.slice(0, -1).join(', ')} and ${parts.at(-1)}`;
}
