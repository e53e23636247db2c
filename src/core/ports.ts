/**
 * The ports of the job core: what it needs from the world, as interfaces. Implementations live elsewhere (store/,
 * mcp/, action/); tests pass plain fakes.
 */
import type { JsonObject } from './parse.js';
import type { CancelReason, JobKind, JobRecord, RemoteRef, RunnerRef, SessionRef } from './record.js';
import type { RemoteStatus } from './status.js';

/**
 * Where job records live. `put` stores a record as given (a new job); every change to an existing job goes through
 * `update`, which applies it to the record as stored. A store shared between jobs may find a concurrent revision
 * there and keep the reconciled record instead (see `mergeRecords`).
 */
export interface JobStore {
  /** A short name for messages: `the local job store at <dir>`. */
  readonly description: string;
  get(instance: string, jobId: string): Promise<JobRecord | undefined>;
  /** Writes a record as given: creates a job (or replaces one wholesale, reconciled with what is stored). */
  put(record: JobRecord): Promise<void>;
  /**
   * Changes one job: `mutate` gets the record as stored now and returns the next one (undefined: no write). Changes
   * to one record are serialised, within a process and across the processes sharing the store's files, so no
   * concurrent change is lost. Returns the record as stored afterwards (a large result as `resultRef`), or undefined
   * when the store has no such job (then `mutate` is not called).
   */
  update(
    instance: string,
    jobId: string,
    mutate: (current: JobRecord) => JobRecord | undefined,
  ): Promise<JobRecord | undefined>;
  /** A job's result: `record.result`, or the large result kept beside the record (checked against `resultRef`). */
  result(record: JobRecord): Promise<unknown>;
  /** The newest job of an instance (for this workflow run, where the store spans runs), if any. */
  latest(instance: string): Promise<JobRecord | undefined>;
  /** The newest job of an instance submitted with this `job-key` (in this workflow run), if any. */
  findByKey(instance: string, jobKey: string): Promise<JobRecord | undefined>;
  /**
   * Claims turn `seq` (1, 2, ...) of a `job-key` for `jobId`. Of all claims of one turn exactly one wins, whichever
   * process or job of the run makes it. Returns the winner's job ID (`jobId` when this claim won), or undefined when
   * the turn is taken but its claim cannot be read (its writer died while writing it): the next turn is free then.
   */
  claimKey(instance: string, jobKey: string, seq: number, jobId: string): Promise<string | undefined>;
  /** The highest turn of a `job-key` claimed so far (in this workflow run), if any. */
  lastClaim(instance: string, jobKey: string): Promise<KeyClaim | undefined>;
  /** Where a missing job was looked for, and why it may not be there (for the error a user sees). */
  explainMissing?(instance: string, jobId: string): string;
  /**
   * Every job of an instance this store can enumerate, newest first by creation. A store over a shared write-once
   * backend lists the copies it holds itself (the runner's disk); other jobs' records are still found by ID.
   */
  list(instance: string): Promise<JobRecord[]>;
  /**
   * Removes a job: its record, its large result and its lock. Returns false when the store had no such job. Copies
   * in a write-once shared store cannot be deleted: they expire with the backend's retention.
   */
  remove(instance: string, jobId: string): Promise<boolean>;
}

/** One turn of a `job-key`: the job that claimed it (undefined: a claim that cannot be read). */
export interface KeyClaim {
  seq: number;
  jobId: string | undefined;
}

export const PROTOCOL_CHOICES = ['auto', '2025-11-25', '2026-07-28'] as const;
export type ProtocolChoice = (typeof PROTOCOL_CHOICES)[number];

export const FALLBACKS = ['background', 'sync', 'error'] as const;
/** What happens to a call when the server has no task support (or the tool forbids tasks). */
export type Fallback = (typeof FALLBACKS)[number];

/** A stdio MCP server: the program to start (argv, no shell) and where. Its environment is the caller's. */
export interface StdioServer {
  command: string[];
  cwd: string;
}

/** The MCP server a job talks to. Headers are secrets: they never leave this object. */
export interface ServerTarget {
  /** The Streamable HTTP URL; for a stdio server, its name in messages (`stdio: <command>`, see serverName). */
  url: string;
  headers: Record<string, string>;
  /** The task generation to speak on a new connection (`auto`: discover it). */
  protocol?: ProtocolChoice;
  /** Set for a stdio server: the process to start instead of an HTTP connection. */
  stdio?: StdioServer;
  /** Set for a job a background job runner owns (from its record): wait and cancel go through that runner. */
  runner?: RunnerRef;
  /** The recorded kind of the job (from its record): a remote task or a plain call. */
  kind?: JobKind;
}

/** A progress notification (`notifications/progress`) of a call, as the server sent it (message: untrusted). */
export interface ProgressUpdate {
  progress: number;
  total?: number;
  message?: string;
}

/** A task as the server reports it, generation-neutral. */
export interface TaskSnapshot {
  taskId: string;
  status: RemoteStatus;
  statusMessage?: string;
  ttlMs?: number | null;
  pollIntervalMs?: number;
  /** The server's own times of the task (ISO 8601), when it gives them. */
  createdAt?: string;
  lastUpdatedAt?: string;
}

export type TaskOutcome =
  | { status: 'completed'; result: JsonObject; task?: TaskSnapshot }
  | {
      status: 'failed';
      error: { code?: number; message: string; data?: unknown };
      /** The tool result, when the task failed because the tool reported an error (`isError`). */
      result?: JsonObject;
      task?: TaskSnapshot;
    }
  | { status: 'cancelled'; task?: TaskSnapshot };

export interface ToolCall {
  tool: string;
  arguments: JsonObject;
  /** The task TTL to ask for; the server may choose another one. */
  ttlMs?: number;
  /** Asks the server for progress reports under this token (`_meta.progressToken`). */
  progressToken?: string;
  /** The job the call is for: a job runner that owns the call records its changes there. */
  job?: { instance: string; jobId: string };
}

export interface SubmittedTask {
  remote: RemoteRef;
  task: TaskSnapshot;
  /** What kind of job this is: a remote task (default) or a plain `tools/call` a runner keeps open. */
  kind?: JobKind;
  /** Where the call runs, when a background job runner owns it. */
  runner?: RunnerRef;
  /** Set when the call ran to its end inside submit (`fallback: sync`): the job's outcome. */
  outcome?: TaskOutcome;
}

export interface WatchOptions {
  /** Called for every status the server reports, in order. */
  onStatus: (task: TaskSnapshot) => void | Promise<void>;
  /** Called for every progress notification of the call, in order (where the server sends any). */
  onProgress?: (update: ProgressUpdate) => void | Promise<void>;
  /**
   * Called when the server asks a question (an elicitation), whether `input-responses` answered it or not. An
   * unanswered question stays unanswered (a later answer may still reach it) and the watch ends with an
   * INPUT_REQUIRED JobError.
   */
  onQuestion?: (question: ServerQuestion, answered: boolean) => void | Promise<void>;
  /** Stops watching (not the remote task). */
  signal: AbortSignal;
  /** Never poll more often than this. */
  pollFloorMs?: number;
  /** Called for every log message the server sends about the task (`notifications/message`). */
  onLog?: (entry: ServerLogEntry) => void | Promise<void>;
}

/** A task's progress as the server reports it (`notifications/progress`). */
export interface ProgressUpdate {
  progress: number;
  total?: number;
  message?: string;
}

/** A log message of the server (`notifications/message`): its level and text (untrusted). */
export interface ServerLogEntry {
  level: 'debug' | 'info' | 'notice' | 'warning' | 'error' | 'critical' | 'alert' | 'emergency';
  logger?: string;
  text: string;
}

/** Why a job is being cancelled: a job runner that owns the call records it with the job's end. */
export interface CancelWhy {
  reason: CancelReason;
  note?: string;
}

export interface ServerQuestion {
  /** The server's question, as it sent it (untrusted text). */
  message: string;
  /** The task it belongs to, when the server said so. */
  taskId?: string;
}

/**
 * One connection to one MCP server, new (for submit) or rejoining the session of an earlier task. Every method
 * rejects with a JobError: SERVER_UNREACHABLE (retryable) for anything a retry may fix (refused, reset, HTTP 5xx or
 * 429, a request that got no answer in time, a garbled reply), TASK_LOST when the server no longer knows the task.
 */
export interface TaskConnection {
  /** What a later process needs to reach the server as this connection does (recorded before a call is sent). */
  session(): SessionRef;
  submit(call: ToolCall, signal?: AbortSignal): Promise<SubmittedTask>;
  /**
   * The tasks this connection's session holds (2025-11-25 `tasks/list`): how a later process finds the task of a
   * call whose reply never arrived. Undefined where the protocol offers no such list (2026-07-28).
   */
  sessionTasks(signal?: AbortSignal): Promise<TaskSnapshot[] | undefined>;
  snapshot(remote: RemoteRef, signal?: AbortSignal): Promise<TaskSnapshot>;
  /** Follows the task to its end. Rejects with a JobError when the task or the server is lost. */
  watch(remote: RemoteRef, options: WatchOptions): Promise<TaskOutcome>;
  /**
   * Sends `tasks/cancel` (whatever the server's capabilities say), then reads back the status the server holds.
   * A server that refuses the request rejects with SERVER_ERROR saying what it answered and the status it reports.
   */
  cancel(remote: RemoteRef, signal?: AbortSignal, why?: CancelWhy): Promise<TaskSnapshot>;
  /** Releases local resources. Never ends the server-side session: tasks live in it. */
  close(): Promise<void>;
  /** The server's tools (every page of `tools/list`), for a host that shows them or builds flags from them. */
  tools?(signal?: AbortSignal): Promise<ToolInfo[]>;
}

/** A tool as the server lists it: what a host needs to show it and to turn flags into its arguments. */
export interface ToolInfo {
  name: string;
  description?: string;
  /** The tool's JSON Schema for its arguments (untrusted: the server's). */
  inputSchema: JsonObject;
  /** Whether the tool may run as a task: `required`, `optional` or `forbidden`. */
  taskSupport: 'required' | 'optional' | 'forbidden';
}

export interface TaskClient {
  /**
   * Connects to the server, or rejoins the session of an earlier call (`join`). No request of the connection
   * outlives `deadline` (epoch ms): one that would is cut short and reported as SERVER_UNREACHABLE.
   */
  open(target: ServerTarget, join?: SessionRef, signal?: AbortSignal, deadline?: number): Promise<TaskConnection>;
}

export interface Clock {
  now(): Date;
  /** Resolves after `ms`, or rejects with the signal's reason when it aborts first. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export interface Log {
  info(message: string): void;
  /** A notice annotation where the host has them; info otherwise. */
  notice?(message: string): void;
  warning(message: string): void;
  debug(message: string): void;
}

export const systemClock: Clock = {
  now: () => new Date(),
  sleep: (ms, signal) =>
    new Promise<void>((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      const onAbort = (): void => {
        clearTimeout(timer);
        reject(signal!.reason);
      };
      const timer = setTimeout(() => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      }, ms);
      signal?.addEventListener('abort', onAbort, { once: true });
    }),
};
