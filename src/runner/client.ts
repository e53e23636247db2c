/**
 * The TaskClient of jobs the background job runner owns: it starts the runner when a submit needs one, and talks
 * to it over its socket (channel.ts). To the job core it is one more TaskClient.
 */
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, realpathSync } from 'node:fs';
import { createConnection, type Socket } from 'node:net';
import { dirname, join } from 'node:path';
import { JobError } from '../core/errors.js';
import type {
  CancelWhy,
  JobStore,
  ServerTarget,
  SubmittedTask,
  TaskClient,
  TaskConnection,
  TaskOutcome,
  TaskSnapshot,
} from '../core/ports.js';
import type { RunnerRef, SessionRef } from '../core/record.js';
import { isTerminal } from '../core/status.js';
import type { StoreKind } from '../store/select.js';
import { hostName, readLines, send, socketPath, workflowJobIdentity, type Reply } from './channel.js';
import { EngineConnection, type EngineApi } from './connection.js';
import type { EngineEvent, EngineSubmit, Fallback } from './engine.js';
import { RUNNER_ENV } from './runner.js';
import type { InputResponses } from '../core/parse.js';

/** How long a new runner may take to listen on its socket. */
const START_TIMEOUT_MS = 30_000;

export interface RunnerClientOptions {
  stateDir: string;
  instance: string;
  store: StoreKind;
  retentionDays: number;
  /** Where job records are read when the runner is gone. */
  records: JobStore;
  fallback: Fallback;
  env: NodeJS.ProcessEnv;
  inputResponses?: InputResponses;
  /** The runner's entry file (default: dist/runner/index.js beside this process's entry). */
  runnerEntry?: string;
  /** The caller already knows the server has no task support for this call. */
  plain?: boolean;
}

/**
 * dist/runner/index.js beside the running entry (dist/<entry>/index.js), found through symlinks: `npm i -g` runs
 * the CLI as a link in a bin directory.
 */
export function defaultRunnerEntry(): string {
  const entry = process.argv[1] ?? '.';
  let real = entry;
  try {
    real = realpathSync(entry);
  } catch {
    // Not a file we can resolve: take it as given.
  }
  return join(dirname(real), '..', 'runner', 'index.js');
}

export class RunnerTaskClient implements TaskClient {
  readonly workflowJob: string;

  constructor(private readonly options: RunnerClientOptions) {
    this.workflowJob = workflowJobIdentity(options.env);
  }

  async open(target: ServerTarget, _join?: SessionRef): Promise<TaskConnection> {
    const runner = target.runner;
    if (runner !== undefined) {
      if (runner.workflowJob !== this.workflowJob || runner.host !== hostName())
        throw elsewhere(runner, this.workflowJob);
      const engine = await SocketEngine.connect(runner, this.options).catch(() => new GoneEngine(runner, this.options));
      return this.connection(target, engine);
    }
    const socket = socketPath(this.options.stateDir, this.workflowJob);
    const engine = await SocketEngine.connect(
      { socket, pid: 0, host: hostName(), workflowJob: this.workflowJob },
      this.options,
    ).catch(async () => {
      await startRunner(socket, this.workflowJob, this.options, target);
      return SocketEngine.connect({ socket, pid: 0, host: hostName(), workflowJob: this.workflowJob }, this.options);
    });
    return this.connection(target, engine);
  }

  private connection(target: ServerTarget, engine: EngineApi): EngineConnection {
    return new EngineConnection(engine, {
      target,
      stateDir: this.options.stateDir,
      fallback: this.options.fallback,
      env: this.options.env,
      ...(this.options.plain ? { plain: true } : {}),
      ...(this.options.inputResponses === undefined ? {} : { inputResponses: this.options.inputResponses }),
    });
  }
}

function elsewhere(runner: RunnerRef, here: string): JobError {
  const [run, attempt, job] = runner.workflowJob.split('/');
  const [hereRun, hereAttempt, hereJob] = here.split('/');
  const sameJob = run === hereRun && attempt === hereAttempt && job === hereJob;
  return new JobError(
    'JOB_ELSEWHERE',
    `The call of this job lives on the mcp-jobs job runner of workflow job '${job}' (run ${run}, attempt ${attempt}${sameJob ? '' : ''}) on host ${runner.host}${sameJob ? ' (another machine of a matrix?)' : ''}, and only a step of that workflow job can reach it; this step belongs to workflow job '${hereJob}' (run ${hereRun}, attempt ${hereAttempt}) on host ${hostName()}. Wait for it or cancel it there; once it has ended, its record answers here too when store is cache or artifact`,
    { retryable: false },
  );
}

/** Starts the runner and resolves once it listens (or another runner of this workflow job already does). */
async function startRunner(
  socket: string,
  workflowJob: string,
  options: RunnerClientOptions,
  first?: ServerTarget,
): Promise<void> {
  // The runner starts the first stdio server at once, while the submit's request is on its way (not when the step
  // has answers for questions: those belong to the connection the submit itself opens).
  const prepare =
    first?.stdio !== undefined && options.inputResponses === undefined
      ? JSON.stringify({ server: { url: first.url, headers: {}, stdio: first.stdio }, stateDir: options.stateDir })
      : '';
  const entry = options.runnerEntry ?? defaultRunnerEntry();
  if (!existsSync(entry)) {
    throw new JobError('INTERNAL', `The mcp-jobs job runner entry ${entry} is missing: is dist/ complete?`);
  }
  const logDir = join(options.stateDir, 'runner');
  mkdirSync(logDir, { recursive: true, mode: 0o700 });
  const log = openSync(join(logDir, 'runner.log'), 'a', 0o600);
  try {
    const child = spawn(process.execPath, [entry], {
      detached: true,
      stdio: ['ignore', 'pipe', log],
      cwd: options.stateDir,
      env: {
        ...options.env,
        [RUNNER_ENV.socket]: socket,
        [RUNNER_ENV.workflowJob]: workflowJob,
        [RUNNER_ENV.store]: options.store,
        [RUNNER_ENV.retentionDays]: String(options.retentionDays),
        [RUNNER_ENV.prepare]: prepare,
      },
    });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () =>
          reject(
            new JobError(
              'INTERNAL',
              `The mcp-jobs job runner did not start within 30 s (see ${join(logDir, 'runner.log')})`,
            ),
          ),
        START_TIMEOUT_MS,
      );
      let text = '';
      child.stdout!.setEncoding('utf8');
      child.stdout!.on('data', (chunk: string) => {
        text += chunk;
        if (text.includes('\n')) {
          clearTimeout(timer);
          resolve();
        }
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        if (!text.includes('\n')) {
          reject(
            new JobError(
              'INTERNAL',
              `The mcp-jobs job runner exited with code ${code} as it started (see ${join(logDir, 'runner.log')})`,
            ),
          );
        }
      });
      child.once('error', (error) => {
        clearTimeout(timer);
        reject(error);
      });
    });
    child.stdout!.destroy();
    child.unref();
  } finally {
    closeSync(log);
  }
}

/** The runner's engine, over its socket. */
class SocketEngine implements EngineApi {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: unknown) => void }>();
  private readonly watchers = new Map<number, (reply: Reply) => void>();
  private closed = false;
  private readonly gone: Promise<void>;

  private constructor(
    private readonly socket: Socket,
    private readonly runner: RunnerRef,
    private readonly options: RunnerClientOptions,
  ) {
    let markGone!: () => void;
    this.gone = new Promise((resolve) => (markGone = resolve));
    readLines(socket, (message) => {
      const reply = message as Reply;
      const watcher = this.watchers.get(reply.id);
      if (watcher !== undefined) return watcher(reply);
      const waiting = this.pending.get(reply.id);
      if (waiting === undefined || !('ok' in reply)) return;
      this.pending.delete(reply.id);
      if (reply.ok) waiting.resolve(reply.value);
      else {
        waiting.reject(
          new JobError(reply.error.code as never, reply.error.message, {
            retryable: reply.error.retryable ?? false,
            ...(reply.error.input === undefined ? {} : { input: reply.error.input }),
          }),
        );
      }
    });
    socket.on('close', () => {
      this.closed = true;
      for (const waiting of this.pending.values()) waiting.reject(this.goneError());
      this.pending.clear();
      markGone();
    });
    socket.on('error', () => undefined);
  }

  static connect(runner: RunnerRef, options: RunnerClientOptions): Promise<SocketEngine> {
    return new Promise((resolve, reject) => {
      const socket = createConnection(runner.socket);
      socket.once('connect', () => resolve(new SocketEngine(socket, runner, options)));
      socket.once('error', reject);
    });
  }

  private goneError(): JobError {
    return new JobError('SERVER_UNREACHABLE', this.goneMessage(), { retryable: false });
  }

  private goneMessage(jobId?: string): string {
    return goneMessage(this.runner, this.options, jobId);
  }

  private request(op: string, fields: Record<string, unknown>): Promise<unknown> {
    if (this.closed) return Promise.reject(this.goneError());
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      send(this.socket, { id, op, ...fields });
    });
  }

  submit(spec: EngineSubmit): Promise<SubmittedTask> {
    return this.request('submit', { spec }) as Promise<SubmittedTask>;
  }

  snapshot(jobId: string): Promise<TaskSnapshot> {
    return this.request('snapshot', { jobId }) as Promise<TaskSnapshot>;
  }

  cancel(jobId: string, why: CancelWhy): Promise<TaskSnapshot> {
    return this.request('cancel', {
      jobId,
      reason: why.reason,
      ...(why.note === undefined ? {} : { note: why.note }),
    }) as Promise<TaskSnapshot>;
  }

  cancelAll(note: string): Promise<string[]> {
    return this.request('cancel-all', { note }) as Promise<string[]>;
  }

  watch(jobId: string, onEvent: (event: EngineEvent) => void, signal: AbortSignal): Promise<TaskOutcome> {
    const id = this.nextId++;
    return new Promise<TaskOutcome>((resolve, reject) => {
      const finish = (): void => {
        this.watchers.delete(id);
        signal.removeEventListener('abort', onAbort);
      };
      const onAbort = (): void => {
        finish();
        reject(signal.reason);
      };
      signal.addEventListener('abort', onAbort, { once: true });
      this.watchers.set(id, (reply) => {
        if ('ok' in reply && !reply.ok) {
          finish();
          reject(new JobError(reply.error.code as never, reply.error.message, { retryable: false }));
        } else if ('event' in reply) {
          if (reply.event === 'end') {
            finish();
            resolve(reply.outcome);
          } else onEvent(reply as EngineEvent);
        }
      });
      void this.gone.then(async () => {
        if (!this.watchers.has(id)) return;
        finish();
        resolve(await this.afterGone(jobId));
      });
      send(this.socket, { id, op: 'watch', jobId });
    });
  }

  private afterGone(jobId: string): Promise<TaskOutcome> {
    return afterGone(this.runner, this.options, jobId);
  }

  close(): void {
    this.socket.end();
  }
}

/**
 * Ends, at the end of the workflow job, the calls the job runner of this workflow job still holds: each is
 * cancelled and recorded with `note`. Resolves with their job IDs ([] when no runner runs).
 */
export async function cancelRunnerJobs(options: RunnerClientOptions, note: string): Promise<string[]> {
  const workflowJob = workflowJobIdentity(options.env);
  const socket = socketPath(options.stateDir, workflowJob);
  let engine: SocketEngine;
  try {
    engine = await SocketEngine.connect({ socket, pid: 0, host: hostName(), workflowJob }, options);
  } catch {
    return [];
  }
  try {
    return await engine.cancelAll(note);
  } finally {
    engine.close();
  }
}

function goneMessage(runner: RunnerRef, options: RunnerClientOptions, jobId?: string): string {
  const pid = runner.pid > 0 ? ` (pid ${runner.pid})` : '';
  return `The mcp-jobs job runner${pid} ended before ${jobId === undefined ? 'the job' : `job ${jobId}`} did: it was killed or crashed (see ${join(options.stateDir, 'runner', 'runner.log')}), and the call it held is lost`;
}

/** The runner is gone: its record tells how the job ended, or the job is lost with it. */
async function afterGone(runner: RunnerRef, options: RunnerClientOptions, jobId: string): Promise<TaskOutcome> {
  const job = await options.records.get(options.instance, jobId).catch(() => undefined);
  if (job !== undefined && isTerminal(job.status)) {
    if (job.status === 'completed') return { status: 'completed', result: (job.result ?? {}) as never };
    if (job.status === 'canceled') return { status: 'cancelled' };
    return { status: 'failed', error: { message: job.error?.message ?? 'failed' } };
  }
  return { status: 'failed', error: { message: goneMessage(runner, options, jobId) } };
}

/** A runner that is no longer there: its jobs end `failed` with the reason (or as their records say). */
class GoneEngine implements EngineApi {
  constructor(
    private readonly runner: RunnerRef,
    private readonly options: RunnerClientOptions,
  ) {}
  submit(): Promise<SubmittedTask> {
    return Promise.reject(new JobError('SERVER_UNREACHABLE', goneMessage(this.runner, this.options)));
  }
  watch(jobId: string): Promise<TaskOutcome> {
    return afterGone(this.runner, this.options, jobId);
  }
  async snapshot(jobId: string): Promise<TaskSnapshot> {
    const outcome = await afterGone(this.runner, this.options, jobId);
    return { taskId: jobId, status: outcome.status };
  }
  cancel(jobId: string): Promise<TaskSnapshot> {
    return this.snapshot(jobId);
  }
  close(): void {}
}
