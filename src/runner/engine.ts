/**
 * The calls a job runner owns, and the servers they run on: the heart of the background job runner (runner.ts
 * serves it on a Unix socket) and of the root action's in-process calls (local-client.ts). It
 * - starts one stdio server per distinct command and working directory and shares it (and its MCP session) among
 *   every job on it; an HTTP server without tasks gets a connection per job;
 * - runs each call as a task where the server supports that, else as a plain `tools/call` kept open;
 * - records every status change, status message and progress notification, and tells the watchers at once;
 * - when its last job has ended and been recorded, closes its servers (stdin, SIGTERM, SIGKILL) and says it is idle.
 */
import { crypto } from '../core/lazy-crypto.js';
import { join } from 'node:path';
import { changeFromSnapshot, record, type CommandContext } from '../core/commands/context.js';
import { changeFromOutcome } from '../core/commands/wait.js';
import { describeError, isJobError, JobError } from '../core/errors.js';
import type { InputResponses } from '../core/parse.js';
import {
  systemClock,
  type Fallback,
  type JobStore,
  type Log,
  type ProgressUpdate,
  type ServerTarget,
  type SubmittedTask,
  type TaskOutcome,
  type TaskSnapshot,
  type ToolCall,
} from '../core/ports.js';
import type { CancelReason, JobChange, JobRecord, RemoteRef, RunnerRef } from '../core/record.js';
import { isTerminal, localStatus } from '../core/status.js';
import { inert } from '../core/text.js';
import { plainCall } from '../mcp/plain-call.js';
import { masker, secretEnvValues, StdioServerProcess } from '../mcp/stdio.js';
import type { McpTaskConnection } from '../mcp/task-client.js';

export { FALLBACKS, type Fallback } from '../core/ports.js';

/** Progress is written to the record at most this often (the latest is always kept for the next write). */
const PROGRESS_WRITE_MS = 1_000;
const V1 = '2025-11-25' as const;

/** What a job runner is asked to run. Headers and env travel with it, never into a record. */
export interface EngineSubmit {
  instance: string;
  jobId: string;
  server: ServerTarget;
  /** The environment a stdio server starts with (the submitting step's). */
  env?: NodeJS.ProcessEnv;
  call: ToolCall;
  fallback: Fallback;
  /** Plain call at once: the caller already learned that the server has no task support. */
  plain?: boolean;
  inputResponses?: InputResponses;
  /** Where the record lives (the engine writes to it). */
  stateDir: string;
}

export type EngineEvent =
  | { event: 'status'; task: TaskSnapshot }
  | { event: 'progress'; update: ProgressUpdate }
  | { event: 'end'; outcome: TaskOutcome };

interface ServerEntry {
  key: string;
  name: string;
  connection: Promise<McpTaskConnection>;
  process?: StdioServerProcess;
  jobs: Set<string>;
  /** Set once its process exited: why, for the jobs on it. */
  lost?: string;
}

interface JobEntry {
  jobId: string;
  instance: string;
  kind: 'task' | 'call';
  remote: RemoteRef;
  server: ServerEntry;
  ctx: CommandContext;
  record: JobRecord | undefined;
  last: TaskSnapshot;
  listeners: Set<(event: EngineEvent) => void>;
  stop: AbortController;
  cancel?: { reason: CancelReason; note?: string };
  outcome?: TaskOutcome;
  /** Settles when the end is recorded. */
  done: Promise<void>;
  writes: Promise<unknown>;
  progressAt: number;
  pendingProgress?: JobChange['progress'];
}

export interface EngineOptions {
  log: Log;
  /** The store of a job's records (one per state-dir). */
  storeFor: (stateDir: string) => JobStore;
  /** Makes the MCP task client for a server (a stdio process, or HTTP). */
  connect: (
    target: ServerTarget,
    transport: (() => StdioServerProcess) | undefined,
    inputResponses: InputResponses | undefined,
  ) => Promise<McpTaskConnection>;
  /** This engine's identity, recorded with each job it owns (undefined: in-process, the step's own). */
  runner?: RunnerRef;
  /** Called once the last job has ended, been recorded, and every server is closed. */
  onIdle?: () => void;
}

export class CallEngine {
  private readonly servers = new Map<string, ServerEntry>();
  private readonly jobs = new Map<string, JobEntry>();
  private pending = 0;

  constructor(private readonly options: EngineOptions) {}

  /** The jobs that have not ended. */
  active(): string[] {
    return [...this.jobs.values()].filter((job) => job.outcome === undefined).map((job) => job.jobId);
  }

  has(jobId: string): boolean {
    return this.jobs.has(jobId);
  }

  async submit(spec: EngineSubmit): Promise<SubmittedTask> {
    this.pending++;
    try {
      const server = await this.server(spec);
      let connection: McpTaskConnection;
      try {
        connection = await server.connection;
      } catch (error) {
        this.forget(server);
        throw this.startFailure(server, error);
      }
      let kind: 'task' | 'call' = 'task';
      let remote: RemoteRef | undefined;
      let task: TaskSnapshot | undefined;
      if (!spec.plain) {
        try {
          const submitted = await connection.submit(spec.call);
          remote = submitted.remote;
          task = submitted.task;
        } catch (error) {
          if (!isJobError(error, 'TASKS_UNSUPPORTED') || spec.fallback === 'error') throw error;
          kind = 'call';
        }
      } else kind = 'call';
      remote ??= { ...connection.session(), taskId: `call-${spec.jobId}` };
      task ??= { taskId: remote.taskId, status: 'working' };
      const ctx: CommandContext = {
        store: this.options.storeFor(spec.stateDir),
        tasks: { open: () => Promise.reject(new Error('not used')) },
        clock: systemClock,
        log: this.options.log,
      };
      let resolveDone!: () => void;
      const job: JobEntry = {
        jobId: spec.jobId,
        instance: spec.instance,
        kind,
        remote,
        server,
        ctx,
        record: undefined,
        last: task,
        listeners: new Set(),
        stop: new AbortController(),
        done: new Promise<void>((resolve) => (resolveDone = resolve)),
        writes: Promise.resolve(),
        progressAt: 0,
      };
      this.jobs.set(spec.jobId, job);
      server.jobs.add(spec.jobId);
      void this.follow(job, connection, spec).finally(() => resolveDone());
      return { remote, task, kind, ...(this.options.runner === undefined ? {} : { runner: this.options.runner }) };
    } finally {
      this.pending--;
      this.maybeIdle();
    }
  }

  /** Follows a job: events to its watchers, changes to its record; its outcome at the end. */
  private async follow(job: JobEntry, connection: McpTaskConnection, spec: EngineSubmit): Promise<void> {
    const onProgress = (update: ProgressUpdate): void => {
      this.emit(job, { event: 'progress', update });
      job.pendingProgress = { ...update, at: new Date().toISOString() };
      if (Date.now() - job.progressAt >= PROGRESS_WRITE_MS) this.write(job, { status: 'running' });
    };
    let outcome: TaskOutcome;
    try {
      outcome =
        job.kind === 'call'
          ? await plainCall(connection.client, spec.call, {
              url: job.server.name,
              signal: job.stop.signal,
              reason: () => job.cancel?.note,
              onProgress,
            })
          : await connection.watch(job.remote, {
              signal: job.stop.signal,
              onStatus: (task) => {
                job.last = task;
                this.emit(job, { event: 'status', task });
                if (!isTerminal(localStatus(task.status))) this.write(job, changeFromSnapshot(task));
              },
              onProgress,
            });
    } catch (error) {
      outcome = await this.lostOutcome(job, error);
    }
    if (outcome.status === 'cancelled' && job.cancel === undefined) job.cancel = { reason: 'user' };
    job.outcome = outcome;
    job.last = outcome.task ?? { taskId: job.remote.taskId, status: outcome.status };
    const change = changeFromOutcome(outcome);
    if (change.status === 'canceled' && job.cancel !== undefined) {
      change.cancelReason = job.cancel.reason;
      if (job.cancel.note !== undefined) change.statusMessage = `Canceled: ${job.cancel.note}`;
    }
    // Watchers first (they record the end too: the store keeps whichever lands first, and an ended record stays
    // ended), then the record; the runner exits only once it is written.
    this.emit(job, { event: 'end', outcome });
    this.write(job, change);
    await job.writes;
    job.server.jobs.delete(job.jobId);
    this.maybeIdle();
  }

  /** Why a call ended without the server's answer: its stdio server died, or the connection broke. */
  private async lostOutcome(job: JobEntry, error: unknown): Promise<TaskOutcome> {
    const process = job.server.process;
    if (process !== undefined) {
      const exit = await Promise.race([
        process.exit(),
        new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), 3_000).unref()),
      ]);
      if (exit !== undefined) {
        job.server.lost ??= this.exitMessage(job.server, `${process.describeExit(exit)} while job ${job.jobId} ran`);
        return { status: 'failed', error: { message: job.server.lost } };
      }
    }
    if (job.stop.signal.aborted) return { status: 'cancelled' };
    return {
      status: 'failed',
      error: {
        message: `The connection to ${job.server.name} broke before the server answered (${describeError(error)}); the call it carried is lost`,
      },
    };
  }

  private exitMessage(server: ServerEntry, what: string): string {
    const tail = server.process?.stderrTail() ?? [];
    const shown =
      tail.length === 0 ? ' (it wrote nothing to stderr)' : `; the last lines of its stderr:\n${tail.join('\n')}`;
    return `The stdio MCP server ${server.name} ${what}${shown}`;
  }

  private startFailure(server: ServerEntry, error: unknown): JobError {
    const process = server.process;
    const exit = process?.hasExited;
    if (process !== undefined && exit !== undefined) {
      return new JobError(
        'SERVER_UNREACHABLE',
        this.exitMessage(server, `${process.describeExit(exit)} before it answered initialize`),
        { input: 'command', retryable: false, cause: error },
      );
    }
    return isJobError(error) ? error : new JobError('SERVER_UNREACHABLE', describeError(error), { cause: error });
  }

  /** Records a change (with the latest progress), one write after another. */
  private write(job: JobEntry, change: JobChange): void {
    // What kind of job this is and where it runs go with every write: a call may end (and its end be recorded here)
    // before the submit step records them, and an ended record takes no more changes.
    const placed: JobChange = {
      ...change,
      kind: job.kind,
      remote: { ...job.remote, endpointId: `mcp-jobs-job:${job.jobId}` },
      ...(this.options.runner === undefined ? {} : { runner: this.options.runner }),
    };
    const withProgress = job.pendingProgress === undefined ? placed : { ...placed, progress: job.pendingProgress };
    if (job.pendingProgress !== undefined) job.progressAt = Date.now();
    job.pendingProgress = undefined;
    job.writes = job.writes
      .then(async () => {
        const current = job.record ?? (await job.ctx.store.get(job.instance, job.jobId));
        if (current === undefined) return;
        const next = { ...withProgress };
        // A status write must not move a job backwards: running is where every change of a running job lands.
        if (!isTerminal(next.status) && current.status === 'input_required' && next.status === 'running') {
          next.status = 'running';
        }
        job.record = (await record(job.ctx, current, next)).record;
      })
      .catch((error: unknown) =>
        this.options.log.warning(`${job.jobId}: recording a change failed: ${describeError(error)}`),
      );
  }

  private emit(job: JobEntry, event: EngineEvent): void {
    for (const listener of job.listeners) listener(event);
  }

  /**
   * Watches a job: the current status at once, then every event; `end` last (at once for an ended job). Returns
   * the function that stops watching.
   */
  watch(jobId: string, listener: (event: EngineEvent) => void): () => void {
    const job = this.known(jobId);
    if (job.outcome !== undefined) {
      listener({ event: 'end', outcome: job.outcome });
      return () => undefined;
    }
    listener({ event: 'status', task: job.last });
    job.listeners.add(listener);
    return () => job.listeners.delete(listener);
  }

  snapshot(jobId: string): TaskSnapshot {
    return this.known(jobId).last;
  }

  /**
   * Cancels a job: `tasks/cancel` for a task, `notifications/cancelled` for a plain call. Resolves with the status
   * the job then holds (a plain call ends `cancelled` at once: the server sends no reply to a cancelled request).
   */
  async cancel(jobId: string, reason: CancelReason, note?: string): Promise<TaskSnapshot> {
    const job = this.known(jobId);
    if (job.outcome !== undefined) return job.last;
    job.cancel ??= { reason, ...(note === undefined ? {} : { note }) };
    if (job.kind === 'call') {
      job.stop.abort(note ?? 'cancelled');
      await job.done;
      return job.last;
    }
    const connection = await job.server.connection;
    const after = await connection.cancel(job.remote);
    if (isTerminal(localStatus(after.status))) {
      // The watch sees the end too; wait (briefly) for it to be recorded so the caller reads the final record.
      await Promise.race([job.done, new Promise((resolve) => setTimeout(resolve, 5_000).unref())]);
    }
    return after;
  }

  /** Cancels every job that has not ended (the workflow job is ending) and resolves once each end is recorded. */
  async cancelAll(note: string): Promise<string[]> {
    const ids = this.active();
    await Promise.all(
      ids.map((id) =>
        this.cancel(id, 'signal', note).catch((error: unknown) => {
          this.options.log.warning(`${id}: cancelling failed: ${describeError(error)}`);
          const job = this.jobs.get(id);
          // A job that cannot be cancelled is stopped here: the runner is about to go away with it.
          if (job !== undefined) job.stop.abort(note);
        }),
      ),
    );
    await Promise.all(ids.map((id) => this.jobs.get(id)?.done));
    return ids;
  }

  private known(jobId: string): JobEntry {
    const job = this.jobs.get(jobId);
    if (job === undefined) {
      throw new JobError('TASK_LOST', `The job runner holds no job ${jobId} (it was started after the job ended)`, {
        jobId,
        retryable: false,
      });
    }
    return job;
  }

  /**
   * Starts a stdio server before the first submit for it arrives (the job runner's start-up): the submit then finds
   * it starting or started. Closed with the others when nothing comes.
   */
  prepare(spec: Pick<EngineSubmit, 'server' | 'env' | 'stateDir'>): void {
    if (spec.server.stdio === undefined) return;
    void this.server({ ...spec, instance: '', jobId: '', call: { tool: '', arguments: {} }, fallback: 'background' });
  }

  /** Closes every server (the runner is going away). */
  async shutdown(): Promise<void> {
    await Promise.all([...this.servers.values()].map((server) => this.closeServer(server)));
  }

  private server(spec: EngineSubmit): Promise<ServerEntry> {
    const target = spec.server;
    const stdio = target.stdio;
    // One stdio server per distinct command and directory; each HTTP job gets its own connection.
    const key =
      stdio === undefined
        ? `http ${spec.jobId}`
        : `stdio ${crypto()
            .createHash('sha256')
            .update(JSON.stringify([stdio.command, stdio.cwd]))
            .digest('hex')
            .slice(0, 16)}`;
    const existing = this.servers.get(key);
    if (existing !== undefined && existing.lost === undefined) return Promise.resolve(existing);
    let process: StdioServerProcess | undefined;
    if (stdio !== undefined) {
      const env = spec.env ?? globalThis.process.env;
      process = new StdioServerProcess({
        command: stdio.command,
        cwd: stdio.cwd,
        env,
        stderrLog: join(spec.stateDir, 'runner', `${key.slice(6)}.stderr.log`),
        mask: masker(secretEnvValues(env)),
      });
    }
    const entry: ServerEntry = {
      key,
      name: target.url,
      jobs: new Set(),
      connection: this.options.connect(
        { ...target, protocol: stdio === undefined ? target.protocol : V1 },
        process === undefined ? undefined : () => process,
        spec.inputResponses,
      ),
      ...(process === undefined ? {} : { process }),
    };
    entry.connection.then(
      () => this.options.log.info(`${inert(entry.name)}: stdio server pid ${process?.pid ?? 'none'} up`),
      () => undefined,
    );
    void process?.exit().then((exit) => {
      entry.lost ??= this.exitMessage(entry, process.describeExit(exit));
      if (this.servers.get(key) === entry) this.servers.delete(key);
      this.options.log.info(`${inert(entry.name)} ${process.describeExit(exit)}`);
    });
    this.servers.set(key, entry);
    return Promise.resolve(entry);
  }

  /** Ends a server: its MCP connection, then its process (stdin, SIGTERM, SIGKILL). */
  private async closeServer(server: ServerEntry): Promise<void> {
    this.forget(server);
    const connection = await server.connection.catch(() => undefined);
    await connection?.close();
    await server.process?.close();
  }

  private forget(server: ServerEntry): void {
    if (this.servers.get(server.key) === server) this.servers.delete(server.key);
  }

  private idling = false;

  /** Once nothing runs and nothing is being submitted: close every server, then report idle. */
  private maybeIdle(): void {
    if (this.idling || this.pending > 0 || this.active().length > 0) return;
    const servers = [...this.servers.values()].filter((s) => s.jobs.size === 0);
    if (servers.length !== this.servers.size) return;
    this.idling = true;
    void Promise.all(servers.map((server) => this.closeServer(server))).finally(() => {
      this.idling = false;
      if (this.pending === 0 && this.active().length === 0 && this.servers.size === 0) this.options.onIdle?.();
      else this.maybeIdle();
    });
  }
}
