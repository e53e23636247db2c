/**
 * Reading what task servers send, generously: a client must be strict in what it sends and liberal in what it
 * accepts. Both generations' task objects are decoded here by hand (not by a schema that rejects a reply for an
 * extra field, a fractional interval or a `null` where a field is optional); only what we cannot do without (a task
 * ID, a known status) is required.
 */
import {
  CLIENT_CAPABILITIES_META_KEY,
  CLIENT_INFO_META_KEY,
  PROTOCOL_VERSION_META_KEY,
} from '@modelcontextprotocol/client';
import { JobError } from '../core/errors.js';
import type { JsonObject } from '../core/parse.js';
import type { ProgressUpdate, ServerLogEntry, TaskSnapshot } from '../core/ports.js';
import { REMOTE_STATUSES, type RemoteStatus } from '../core/status.js';
import { inert } from '../core/text.js';
import { CLIENT_INFO } from '../version.js';
import { V2_PROTOCOL } from './v2-dispatch.js';

export const TASKS_EXTENSION = 'io.modelcontextprotocol/tasks';
/** Elicitation lets a task ask for input (`input_required`); answers come from `input-responses`. */
export const CLIENT_CAPABILITIES = { elicitation: {} };

export function isObject(value: unknown): value is JsonObject {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** A task as a 2025-11-25 (`tasks/get`, `tasks/list` entry, `task` of a create reply) or 2026-07-28 server sends it. */
export function decodeTask(
  raw: unknown,
  url: string,
  expectTaskId?: string,
  note?: (deviation: string) => void,
): TaskSnapshot {
  const task = isObject(raw) && isObject(raw.task) && raw.taskId === undefined ? raw.task : raw;
  if (!isObject(task) || typeof task.taskId !== 'string' || task.taskId === '') {
    throw new JobError(
      'PROTOCOL_ERROR',
      `The MCP server ${url} sent a task without a taskId${expectTaskId ? ` for task ${inert(expectTaskId)}` : ''}`,
    );
  }
  const status = (REMOTE_STATUSES as readonly string[]).includes(String(task.status))
    ? (task.status as RemoteStatus)
    : undefined;
  if (status === undefined) {
    throw new JobError(
      'PROTOCOL_ERROR',
      `The MCP server ${url} reported task ${inert(task.taskId)} in an unknown status '${inert(String(task.status))}'`,
    );
  }
  const ttl = task.ttlMs ?? task.ttl;
  const poll = task.pollIntervalMs ?? task.pollInterval;
  if (note !== undefined) {
    for (const [name, value] of [
      ['ttl', ttl],
      ['pollInterval', poll],
    ] as const) {
      if (typeof value === 'number' && !Number.isInteger(value))
        note(`a fractional ${name} (${value}) where the spec has an integer`);
    }
    for (const name of ['statusMessage', 'createdAt', 'lastUpdatedAt', 'pollIntervalMs', 'pollInterval']) {
      if (task[name] === null) note(`'${name}: null' where the spec leaves an absent field out`);
    }
  }
  return {
    taskId: task.taskId,
    status,
    ...(typeof task.statusMessage === 'string' ? { statusMessage: task.statusMessage } : {}),
    ...(typeof ttl === 'number' && Number.isFinite(ttl) ? { ttlMs: Math.max(0, Math.round(ttl)) } : {}),
    ...(ttl === null ? { ttlMs: null } : {}),
    ...(typeof poll === 'number' && Number.isFinite(poll) && poll >= 0 ? { pollIntervalMs: Math.round(poll) } : {}),
    ...isoField('createdAt', task.createdAt),
    ...isoField('lastUpdatedAt', task.lastUpdatedAt),
  };
}

/**
 * The final result inlined in a completed 2026-07-28 task. `resultType` is a property of the reply, not of the tool
 * result; servers (and the extension's own examples) omit it there, and a missing one means `complete`.
 */
export function inlinedResult(raw: JsonObject): JsonObject | undefined {
  const result = raw.result;
  if (!isObject(result)) return undefined;
  const { resultType: _kind, ...rest } = result;
  return rest;
}

/** The inlined JSON-RPC error of a failed 2026-07-28 task. */
export function inlinedError(raw: JsonObject): { code?: number; message: string; data?: unknown } | undefined {
  const error = raw.error;
  if (!isObject(error)) return undefined;
  return {
    message: typeof error.message === 'string' ? error.message : 'The task failed',
    ...(typeof error.code === 'number' ? { code: error.code } : {}),
    ...(error.data === undefined ? {} : { data: error.data }),
  };
}

/** The text blocks of a tool result, joined (for a failure message). */
export function resultTextOf(result: JsonObject): string | undefined {
  const content = result.content;
  if (!Array.isArray(content)) return undefined;
  const text = content
    .map((block) => (isObject(block) && typeof block.text === 'string' ? block.text : ''))
    .filter((t) => t !== '')
    .join('\n');
  return text === '' ? undefined : text;
}

/** Frames a 2026-07-28 request: every request carries the protocol version, our info and capabilities in `_meta`. */
export function frameV2(method: string, params: JsonObject): { method: string; params: JsonObject } {
  const meta = isObject(params._meta) ? params._meta : {};
  return {
    method,
    params: {
      ...params,
      _meta: {
        ...meta,
        [PROTOCOL_VERSION_META_KEY]: V2_PROTOCOL,
        [CLIENT_INFO_META_KEY]: { ...CLIENT_INFO },
        [CLIENT_CAPABILITIES_META_KEY]: { ...CLIENT_CAPABILITIES, extensions: { [TASKS_EXTENSION]: {} } },
      },
    },
  };
}

/** `notifications/progress` params, read generously (fractional and string numbers, `null` for absent fields). */
export function decodeProgress(params: JsonObject): ProgressUpdate | undefined {
  const progress = finiteNumber(params.progress);
  if (progress === undefined) return undefined;
  const total = finiteNumber(params.total);
  return {
    progress,
    ...(total === undefined ? {} : { total }),
    ...(typeof params.message === 'string' && params.message !== '' ? { message: params.message } : {}),
  };
}

const LOG_LEVELS: readonly ServerLogEntry['level'][] = [
  'debug',
  'info',
  'notice',
  'warning',
  'error',
  'critical',
  'alert',
  'emergency',
];

/** `notifications/message` params: a level (unknown ones read as info) and its data as text. */
export function decodeLog(params: JsonObject): ServerLogEntry | undefined {
  if (params.data === undefined || params.data === null) return undefined;
  const level = LOG_LEVELS.find((l) => l === params.level) ?? 'info';
  const text = typeof params.data === 'string' ? params.data : JSON.stringify(params.data);
  return {
    level,
    ...(typeof params.logger === 'string' && params.logger !== '' ? { logger: params.logger } : {}),
    text,
  };
}

/** A timestamp the server sent, normalised to ISO 8601 UTC; nothing when it is not one. */
function isoField<K extends string>(name: K, value: unknown): Partial<Record<K, string>> {
  const at = typeof value === 'string' ? Date.parse(value) : Number.NaN;
  return Number.isNaN(at) ? {} : ({ [name]: new Date(at).toISOString() } as Partial<Record<K, string>>);
}

function finiteNumber(value: unknown): number | undefined {
  const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  return typeof n === 'number' && Number.isFinite(n) ? n : undefined;
}
