/**
 * The job record: what one job is, persisted between steps and jobs. Versioned and validated on every read; it never
 * holds a secret (no headers, redacted arguments). Every change goes through `applyChange`, which enforces the
 * status machine and keeps a capped event history.
 */
import { randomBytes } from 'node:crypto';
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
  server: z.object({ transport: z.literal('streamable-http'), url: z.string().url() }),
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
  const bytes = randomBytes(20);
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
  serverUrl: string;
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
    server: { transport: 'streamable-http', url: job.serverUrl },
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
  result?: unknown;
  error?: RecordedError;
  cancelReason?: CancelReason;
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
  if (change.remote !== undefined) next.remote = change.remote;
  if (change.callSession !== undefined) next.callSession = change.callSession;
  if (change.pendingInput === null) delete next.pendingInput;
  else if (change.pendingInput !== undefined) next.pendingInput = change.pendingInput;
  if (change.ttlMs !== undefined) next.ttlMs = change.ttlMs;
  if (change.pollIntervalMs !== undefined) next.pollIntervalMs = change.pollIntervalMs;
  if (change.result !== undefined) next.result = change.result;
  if (change.error !== undefined) next.error = change.error;
  if (change.cancelReason !== undefined) next.cancelReason = change.cancelReason;
  if (record.status === 'queued' && change.status !== 'queued') next.startedAt ??= at;
  if (isTerminal(change.status)) next.finishedAt = at;
  const hasPayload =
    change.remote !== undefined ||
    change.callSession !== undefined ||
    (change.pendingInput !== undefined && (change.pendingInput !== null || record.pendingInput !== undefined)) ||
    change.result !== undefined ||
    change.error !== undefined;
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

/** Seconds from creation to the end (or to `now` for an unfinished job). */
export function durationSeconds(record: JobRecord, now: Date): number {
  const end = record.finishedAt === undefined ? now.getTime() : Date.parse(record.finishedAt);
  return Math.max(0, (end - Date.parse(record.createdAt)) / 1000);
}
