/**
 * The job record: what one job is, persisted between steps and jobs. Versioned and validated on every read; it never
 * holds a secret (no headers, redacted arguments). Every change goes through `applyChange`, which enforces the
 * status machine and keeps a capped event history.
 */
import { crypto } from './lazy-crypto.js';
import { z } from './schema.js';
import { JobError } from './errors.js';
import type { JsonObject } from './parse.js';
import {
  canTransition,
  isTerminal,
  JOB_STATUSES,
  REMOTE_STATUSES,
  type JobStatus,
  type RemoteStatus,
} from './status.js';

export const SCHEMA_VERSION = 1;
export const MAX_EVENTS = 100;

const isoTime = z.iso.datetime({ offset: true });
const json: z.ZodType<unknown> = z.unknown();

export const CANCEL_REASONS = ['timeout', 'signal', 'user'] as const;
export type CancelReason = (typeof CANCEL_REASONS)[number];

export const GENERATIONS = ['2025-11-25', '2026-07-28'] as const;
export type Generation = (typeof GENERATIONS)[number];

/** What a later process needs to reach the server as the submit did: recorded before the tool call is sent. */
const sessionSchema = z.object({
  /** The protocol generation the task was created with; wait and cancel speak the same one. */
  generation: z.enum(GENERATIONS),
  /** The negotiated protocol version (HTTP `MCP-Protocol-Version`). */
  protocolVersion: z.string().min(1),
  /** The MCP session the task lives in (2025-11-25 tasks are bound to it). */
  sessionId: z.string().min(1).optional(),
  /** The server's capabilities from `initialize`: a rejoined session does not see them again. */
  serverCapabilities: z.record(z.string(), json),
  /** Scope of the task reference in the tasks client. */
  endpointId: z.string().min(1),
  /** 2026-07-28: the server's `server/discover` result, so later steps reconnect without probing. */
  discover: z.record(z.string(), json).optional(),
});

/** The task a job follows: the session it lives in plus its ID. */
const remoteSchema = sessionSchema.extend({ taskId: z.string().min(1) });

/** A question the server asked that nobody answered yet (an elicitation). */
const pendingInputSchema = z.object({
  message: z.string(),
  askedAt: isoTime,
  /**
   * Where the question arrived. A 2025-11-25 server sends it once, on the stream that was open then
   * (`tasks/result`, or the session's GET stream), so once a process saw it and went away, nobody can answer it.
   */
  delivered: z.boolean(),
});

const eventSchema = z.object({
  at: isoTime,
  status: z.enum(JOB_STATUSES),
  remoteStatus: z.enum(REMOTE_STATUSES).optional(),
  message: z.string().optional(),
});

/**
 * Where a large result is kept instead of inside the record: beside it (a result file, a result blob), named by the
 * job and checked against this digest when read back. Small results stay in `result`; a record has one or neither.
 */
const resultRefSchema = z.object({
  /** Bytes of the result's canonical text (`resultFileText`). */
  bytes: z.number().int().nonnegative(),
  /** SHA-256 of that text, lowercase hex. */
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
});

/** The server a job talks to: a Streamable HTTP URL, or a stdio program (argv, no shell) and its directory. */
const serverSchema = z.discriminatedUnion('transport', [
  z.object({ transport: z.literal('streamable-http'), url: z.string().url() }),
  z.object({ transport: z.literal('stdio'), command: z.array(z.string()).min(1), cwd: z.string().min(1) }),
]);

export const JOB_KINDS = ['task', 'call'] as const;
/** `task`: the server runs the call as an MCP task; `call`: a plain `tools/call` whose request stays open. */
export type JobKind = (typeof JOB_KINDS)[number];

/**
 * The background job runner that owns a job's call: a process on one machine, serving one workflow job. Only a
 * step of that workflow job on that machine can reach it.
 */
const runnerSchema = z.object({
  /** The workflow job it serves: `<run id>/<attempt>/<job>` (see workflowJobIdentity). */
  workflowJob: z.string().min(1),
  /** The machine's host name, for messages. */
  host: z.string(),
  /** The runner's Unix socket. */
  socket: z.string().min(1),
  pid: z.number().int().positive(),
});

/** The latest progress notification of the call. */
const progressSchema = z.object({
  progress: z.number(),
  total: z.number().optional(),
  message: z.string().optional(),
  at: isoTime,
});

const errorSchema = z.object({
  code: z.string().min(1),
  message: z.string(),
  data: json.optional(),
});

export const jobRecordSchema = z.object({
  schemaVersion: z.literal(SCHEMA_VERSION),
  jobId: z.string().regex(/^job_[A-Za-z0-9_-]{6,64}$/),
  instance: z.string().min(1),
  /** Counts the record's writes: shared stores keep one entry per revision and read the newest. */
  revision: z.number().int().positive().default(1),
  /** The submit's idempotency key (`job-key`), when it had one. */
  jobKey: z.string().min(1).optional(),
  server: serverSchema,
  /** Absent in records written before plain calls existed: a task. */
  kind: z.enum(JOB_KINDS).optional(),
  /** Set when a background job runner owns the call (stdio servers, servers without tasks). */
  runner: runnerSchema.optional(),
  tool: z.string().min(1),
  arguments: z.record(z.string(), json),
  redactedArguments: z.array(z.string()),
  status: z.enum(JOB_STATUSES),
  remoteStatus: z.enum(REMOTE_STATUSES).optional(),
  statusMessage: z.string().optional(),
  createdAt: isoTime,
  updatedAt: isoTime,
  startedAt: isoTime.optional(),
  finishedAt: isoTime.optional(),
  deadline: isoTime.optional(),
  requestedTtlMs: z.number().int().positive().optional(),
  ttlMs: z.number().int().nonnegative().nullable().optional(),
  pollIntervalMs: z.number().int().nonnegative().optional(),
  /**
   * The connection the tool call was sent over, recorded before it was sent: when the reply never arrives (the
   * submit was killed, the network broke), a later wait or cancel finds the task the call created through it.
   */
  callSession: sessionSchema.optional(),
  remote: remoteSchema.optional(),
  pendingInput: pendingInputSchema.optional(),
  /** The latest progress the server reported (latest only). */
  progress: progressSchema.optional(),
  /** The task's times as the server reports them: `duration-seconds` is taken from them when the job ended. */
  serverTimes: z.object({ createdAt: isoTime.optional(), lastUpdatedAt: isoTime.optional() }).optional(),
  result: json.optional(),
  /** Set instead of `result` when the result is larger than RESULT_INLINE_LIMIT_BYTES: read it through the store. */
  resultRef: resultRefSchema.optional(),
  error: errorSchema.optional(),
  cancelReason: z.enum(CANCEL_REASONS).optional(),
  github: z.record(z.string(), z.string()).optional(),
  events: z.array(eventSchema),
});

export type JobRecord = z.infer<typeof jobRecordSchema>;
export type RemoteRef = z.infer<typeof remoteSchema>;
export type SessionRef = z.infer<typeof sessionSchema>;
export type PendingInput = z.infer<typeof pendingInputSchema>;
export type JobEvent = z.infer<typeof eventSchema>;
export type RecordedError = z.infer<typeof errorSchema>;
export type ResultRef = z.infer<typeof resultRefSchema>;
export type ServerSpec = z.infer<typeof serverSchema>;
export type RunnerRef = z.infer<typeof runnerSchema>;
export type RecordedProgress = z.infer<typeof progressSchema>;

/**
 * The server as messages name it: its URL, or `stdio: <command>`. A URL's query values are masked by the host
 * before anything logs it; a command holds no secret (they belong in the step's env).
 */
export function serverName(server: ServerSpec): string {
  return server.transport === 'stdio' ? `stdio: ${server.command.join(' ')}` : server.url;
}

/**
 * Results whose JSON is larger than this are kept beside the record, not in it: records stay small in the shared
 * stores, where every revision is a whole new copy.
 */
export const RESULT_INLINE_LIMIT_BYTES = 64 * 1024;

/** The one text a result is kept as (result file, result blob, `result-file`): what its digest is taken over. */
export function resultFileText(result: unknown): string {
  return `${JSON.stringify(result, null, 2)}\n`;
}

/** `job_` + 20 random base32 characters: safe in file names, cache keys and artifact names. */
export function newJobId(): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz234567';
  const bytes = crypto().randomBytes(20);
  let id = 'job_';
  for (const byte of bytes) id += alphabet[byte % 32];
  return id;
}

/** Parses a stored record. `source` names where it came from (a file path) for the error message. */
export function parseRecord(text: string, source: string): JobRecord {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    throw new JobError('RECORD_INVALID', `Job record ${source} is not valid JSON: ${(error as Error).message}`, {
      path: source,
    });
  }
  const version = (data as { schemaVersion?: unknown } | null)?.schemaVersion;
  if (typeof version === 'number' && version > SCHEMA_VERSION) {
    throw new JobError(
      'RECORD_INVALID',
      `Job record ${source} has schema version ${version}, newer than this mcp-jobs understands (${SCHEMA_VERSION}); use the same or a newer mcp-jobs version in every step`,
      { path: source },
    );
  }
  const parsed = jobRecordSchema.safeParse(data);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue?.path.length ? issue.path.join('.') : '(root)';
    throw new JobError('RECORD_INVALID', `Job record ${source} is damaged: ${where}: ${issue?.message ?? 'invalid'}`, {
      path: source,
    });
  }
  return parsed.data;
}

export interface NewJob {
  jobId?: string;
  instance: string;
  jobKey?: string;
  /** The server: give `server`, or (an HTTP server) just its URL as `serverUrl`. */
  server?: ServerSpec;
  serverUrl?: string;
  tool: string;
  arguments: JsonObject;
  redactedArguments: string[];
  deadline?: string;
  requestedTtlMs?: number;
  github?: Record<string, string>;
  now: Date;
}

export function createRecord(job: NewJob): JobRecord {
  const at = job.now.toISOString();
  return {
    schemaVersion: SCHEMA_VERSION,
    jobId: job.jobId ?? newJobId(),
    instance: job.instance,
    revision: 1,
    ...(job.jobKey === undefined ? {} : { jobKey: job.jobKey }),
    server: job.server ?? { transport: 'streamable-http', url: job.serverUrl ?? '' },
    tool: job.tool,
    arguments: job.arguments,
    redactedArguments: job.redactedArguments,
    status: 'queued',
    createdAt: at,
    updatedAt: at,
    ...(job.deadline === undefined ? {} : { deadline: job.deadline }),
    ...(job.requestedTtlMs === undefined ? {} : { requestedTtlMs: job.requestedTtlMs }),
    ...(job.github === undefined ? {} : { github: job.github }),
    events: [{ at, status: 'queued' }],
  };
}

/** One change to a job: a new status (local, remote or both) and whatever came with it. */
export interface JobChange {
  status: JobStatus;
  remoteStatus?: RemoteStatus;
  statusMessage?: string;
  remote?: RemoteRef;
  callSession?: SessionRef;
  /** A question nobody answered yet; `null` clears it (the server went on). */
  pendingInput?: PendingInput | null;
  ttlMs?: number | null;
  pollIntervalMs?: number;
  /** The latest progress the server reported. */
  progress?: RecordedProgress;
  /** The task's times as the server reports them. */
  serverTimes?: { createdAt?: string; lastUpdatedAt?: string };
  result?: unknown;
  error?: RecordedError;
  cancelReason?: CancelReason;
  kind?: JobKind;
  runner?: RunnerRef;
}

export interface AppliedChange {
  record: JobRecord;
  /** False when the change was refused (the job is terminal) or changed nothing worth recording. */
  changed: boolean;
}

/**
 * Applies a change through the status machine. A terminal record absorbs every change: the result is the record as
 * it was, with `changed: false`. An impossible move between non-terminal statuses is a bug, not a user error.
 */
export function applyChange(record: JobRecord, change: JobChange, now: Date): AppliedChange {
  if (isTerminal(record.status)) return { record, changed: false };
  if (!canTransition(record.status, change.status)) {
    throw new JobError('INTERNAL', `Job ${record.jobId} cannot move from ${record.status} to ${change.status}`, {
      jobId: record.jobId,
    });
  }
  const at = now.toISOString();
  const sameStatus =
    change.status === record.status &&
    (change.remoteStatus ?? record.remoteStatus) === record.remoteStatus &&
    (change.statusMessage === undefined || change.statusMessage === record.statusMessage);
  const next: JobRecord = { ...record, status: change.status, updatedAt: at, revision: record.revision + 1 };
  if (change.remoteStatus !== undefined) next.remoteStatus = change.remoteStatus;
  if (change.statusMessage !== undefined) next.statusMessage = change.statusMessage;
  // A status comes with its own message or none: the message of an earlier status does not describe it.
  else if (!sameStatus) delete next.statusMessage;
  if (change.progress !== undefined) next.progress = change.progress;
  if (change.serverTimes !== undefined) next.serverTimes = { ...record.serverTimes, ...change.serverTimes };
  if (change.remote !== undefined) next.remote = change.remote;
  if (change.callSession !== undefined) next.callSession = change.callSession;
  if (change.pendingInput === null) delete next.pendingInput;
  else if (change.pendingInput !== undefined) next.pendingInput = change.pendingInput;
  if (change.ttlMs !== undefined) next.ttlMs = change.ttlMs;
  if (change.pollIntervalMs !== undefined) next.pollIntervalMs = change.pollIntervalMs;
  if (change.result !== undefined) next.result = change.result;
  if (change.error !== undefined) next.error = change.error;
  if (change.cancelReason !== undefined) next.cancelReason = change.cancelReason;
  if (change.kind !== undefined) next.kind = change.kind;
  if (change.runner !== undefined) next.runner = change.runner;
  if (record.status === 'queued' && change.status !== 'queued') next.startedAt ??= at;
  if (isTerminal(change.status)) next.finishedAt = at;
  const hasPayload =
    change.remote !== undefined ||
    change.callSession !== undefined ||
    (change.pendingInput !== undefined && (change.pendingInput !== null || record.pendingInput !== undefined)) ||
    change.result !== undefined ||
    change.error !== undefined ||
    change.kind !== undefined ||
    change.runner !== undefined ||
    change.progress !== undefined;
  if (sameStatus && !hasPayload && !isTerminal(change.status)) return { record, changed: false };
  if (!sameStatus || isTerminal(change.status)) {
    const event: JobEvent = { at, status: change.status };
    if (next.remoteStatus !== undefined) event.remoteStatus = next.remoteStatus;
    if (change.statusMessage !== undefined) event.message = change.statusMessage;
    else if (change.error !== undefined) event.message = change.error.message;
    next.events = [...record.events, event].slice(-MAX_EVENTS);
  }
  return { record: next, changed: true };
}

/**
 * Reconciles two versions of one job written concurrently (two jobs of a workflow updating the same record, say).
 * Terminal absorbs: a version that ended wins over one that did not, and of two ended versions the first to end
 * wins. Otherwise the more recently updated one wins. The result carries a revision above both.
 */
export function mergeRecords(a: JobRecord, b: JobRecord): JobRecord {
  const ended = (r: JobRecord): number => (isTerminal(r.status) ? 1 : 0);
  // Each rule returns which record wins (> 0: a, < 0: b, 0: undecided); the same two records always give one answer.
  const rules: Array<() => number> = [
    () => ended(a) - ended(b),
    () => (ended(a) ? compare(b.finishedAt ?? b.updatedAt, a.finishedAt ?? a.updatedAt) : 0),
    () => compare(a.updatedAt, b.updatedAt),
    () => a.revision - b.revision,
    () => compare(JSON.stringify(a), JSON.stringify(b)),
  ];
  const verdict = rules.map((rule) => rule()).find((v) => v !== 0) ?? 0;
  const winner = verdict >= 0 ? a : b;
  return { ...winner, revision: Math.max(a.revision, b.revision) + 1 };
}

function compare(x: string, y: string): number {
  return x < y ? -1 : x > y ? 1 : 0;
}

/**
 * Seconds the job took: from the server's task creation to its last update when the server reported both for a job
 * that ended; otherwise from the record's creation to its end (or to `now` for an unfinished job).
 */
export function durationSeconds(record: JobRecord, now: Date): number {
  // The server's own times, when it gave both for a job that ended: how long the task itself took.
  const server = record.serverTimes;
  if (isTerminal(record.status) && server?.createdAt !== undefined && server.lastUpdatedAt !== undefined) {
    return Math.max(0, (Date.parse(server.lastUpdatedAt) - Date.parse(server.createdAt)) / 1000);
  }
  const end = record.finishedAt === undefined ? now.getTime() : Date.parse(record.finishedAt);
  return Math.max(0, (end - Date.parse(record.createdAt)) / 1000);
}
