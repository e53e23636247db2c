/**
 * The TaskClient port over the official MCP client (`@modelcontextprotocol/client`) and its tasks client
 * (`@modelcontextprotocol/ext-tasks`), for servers speaking protocol 2025-11-25 over Streamable HTTP.
 *
 * 2025-11-25 tasks live in the MCP session that created them, so submit keeps the session open (no HTTP DELETE) and
 * records its ID and the server's capabilities; wait and cancel rejoin that session with the saved ID.
 */
import { Client, StreamableHTTPClientTransport, type Tool } from '@modelcontextprotocol/client';
import {
  createTaskSessionFromClient,
  toolDeclarationFromMcpTool,
  type SerializedTaskReference,
  type TaskEnabledSession,
  type TaskView,
} from '@modelcontextprotocol/ext-tasks/client';
import type { TaskId } from '@modelcontextprotocol/ext-tasks/core';
import { z } from 'zod';
import { JobError } from '../core/errors.js';
import type { JsonObject } from '../core/parse.js';
import type {
  ServerTarget,
  SubmittedTask,
  TaskClient,
  TaskConnection,
  TaskOutcome,
  TaskSnapshot,
  ToolCall,
  WatchOptions,
} from '../core/ports.js';
import type { RemoteRef } from '../core/record.js';
import { REMOTE_STATUSES, type RemoteStatus } from '../core/status.js';
import { rpcCode, toJobError } from './errors.js';
import { pacedFetch } from './pacing.js';
import { CLIENT_INFO } from '../version.js';

const GENERATION = '2025-11-25' as const;
/** Bounds every single request; waiting for a task is not one request and is not bounded by it. */
const REQUEST_TIMEOUT_MS = 60_000;
/** The longest timer Node allows: a blocking wait for a task's end is bounded by our deadline, not by this. */
const MAX_TIMER_MS = 2_147_483_647;

/**
 * A client that rejoined an existing session skips `initialize`, so it never learns the server's capabilities; the
 * tasks client reads them to pick the protocol generation. This hands it the ones recorded at submit.
 */
class RejoinedClient extends Client {
  constructor(private readonly recorded: Record<string, unknown>) {
    super({ ...CLIENT_INFO }, { capabilities: {} });
  }
  override getServerCapabilities(): ReturnType<Client['getServerCapabilities']> {
    return super.getServerCapabilities() ?? (this.recorded as ReturnType<Client['getServerCapabilities']>);
  }
}

export interface McpTaskClientOptions {
  /** Never poll a task's status more often than this (`poll-interval`). */
  pollFloorMs?: number;
}

export class McpTaskClient implements TaskClient {
  constructor(private readonly options: McpTaskClientOptions = {}) {}

  async open(target: ServerTarget, join?: RemoteRef, signal?: AbortSignal): Promise<TaskConnection> {
    const url = new URL(target.url);
    const client =
      join === undefined
        ? new Client({ ...CLIENT_INFO }, { capabilities: {} })
        : new RejoinedClient(join.serverCapabilities);
    const transport = new StreamableHTTPClientTransport(url, {
      requestInit: { headers: target.headers },
      ...(this.options.pollFloorMs === undefined ? {} : { fetch: pacedFetch(this.options.pollFloorMs) }),
      ...(join?.sessionId === undefined ? {} : { sessionId: join.sessionId }),
      ...(join === undefined ? {} : { protocolVersion: join.protocolVersion }),
      // A lost stream is our retry loop's business, with its own deadline and messages.
      reconnectionOptions: {
        maxRetries: 0,
        initialReconnectionDelay: 1000,
        maxReconnectionDelay: 1000,
        reconnectionDelayGrowFactor: 1,
      },
    });
    const doing = join === undefined ? 'connecting' : `rejoining the session of task ${join.taskId}`;
    try {
      await raceAbort(client.connect(transport, { timeout: REQUEST_TIMEOUT_MS }), signal);
    } catch (error) {
      await client.close().catch(() => undefined);
      throw toJobError(error, { url: target.url, doing, ...(join ? { taskId: join.taskId } : {}) });
    }
    return new McpTaskConnection(target.url, client, transport, join);
  }
}

class McpTaskConnection implements TaskConnection {
  private session: TaskEnabledSession | undefined;

  constructor(
    private readonly url: string,
    private readonly client: Client,
    private readonly transport: StreamableHTTPClientTransport,
    private readonly joined: RemoteRef | undefined,
  ) {}

  private tasks(): TaskEnabledSession {
    this.session ??= createTaskSessionFromClient(this.client, {
      endpointId: this.joined?.endpointId ?? endpointIdFor(this.url),
    });
    return this.session;
  }

  async submit(call: ToolCall, signal?: AbortSignal): Promise<SubmittedTask> {
    const capabilities = (this.client.getServerCapabilities() ?? {}) as Record<string, unknown>;
    const taskRequests = (capabilities.tasks as { requests?: { tools?: { call?: unknown } } } | undefined)?.requests;
    if (taskRequests?.tools?.call === undefined) {
      throw new JobError(
        'TASKS_UNSUPPORTED',
        `The MCP server ${this.url} does not support tasks for tool calls (its capabilities have no tasks.requests.tools.call), so '${call.tool}' cannot run as a background job`,
        { input: 'server' },
      );
    }
    const tool = await this.findTool(call.tool, signal);
    const support = tool.execution?.taskSupport ?? 'forbidden';
    if (support === 'forbidden') {
      throw new JobError(
        'TASKS_UNSUPPORTED',
        `Tool '${call.tool}' on ${this.url} does not allow running as a task (execution.taskSupport is ${tool.execution?.taskSupport === undefined ? 'not set, which means forbidden' : 'forbidden'})`,
        { input: 'tool' },
      );
    }
    const doing = `calling tool '${call.tool}'`;
    try {
      const execution = await this.tasks().callTool(call.tool, call.arguments as never, {
        declaration: toolDeclarationFromMcpTool(tool),
        task: { preference: 'require', ...(call.ttlMs === undefined ? {} : { retentionMs: call.ttlMs }) },
        requestTimeoutMs: REQUEST_TIMEOUT_MS,
        ...(signal === undefined ? {} : { signal }),
      });
      if (execution.kind !== 'task') {
        await execution.close().catch(() => undefined);
        throw new JobError(
          'PROTOCOL_ERROR',
          `The MCP server ${this.url} answered tool '${call.tool}' at once instead of creating a task`,
        );
      }
      let reference: SerializedTaskReference | undefined;
      await execution.handoff((r) => {
        reference = r;
      });
      const taskId = execution.handle.taskId;
      const remote: RemoteRef = {
        generation: GENERATION,
        taskId,
        protocolVersion: this.transport.protocolVersion ?? GENERATION,
        serverCapabilities: (this.client.getServerCapabilities() ?? {}) as Record<string, unknown>,
        endpointId: reference?.endpointId ?? endpointIdFor(this.url),
        ...(this.transport.sessionId === undefined ? {} : { sessionId: this.transport.sessionId }),
      };
      const task = await this.snapshot(remote, signal).catch(() => ({ taskId, status: 'working' as const }));
      return { remote, task };
    } catch (error) {
      throw toJobError(error, { url: this.url, doing });
    }
  }

  private async findTool(name: string, signal?: AbortSignal): Promise<Tool> {
    const seen: string[] = [];
    let cursor: string | undefined;
    try {
      for (let page = 0; page < 100; page++) {
        const listing = await this.client.listTools(cursor === undefined ? {} : { cursor }, {
          timeout: REQUEST_TIMEOUT_MS,
          ...(signal === undefined ? {} : { signal }),
        });
        const tool = listing.tools.find((t) => t.name === name);
        if (tool !== undefined) return tool;
        seen.push(...listing.tools.map((t) => t.name));
        cursor = listing.nextCursor;
        if (cursor === undefined) break;
      }
    } catch (error) {
      throw toJobError(error, { url: this.url, doing: 'listing tools' });
    }
    const shown = seen.slice(0, 20).join(', ') + (seen.length > 20 ? `, … (${seen.length} in all)` : '');
    throw new JobError(
      'TOOL_NOT_FOUND',
      `Input 'tool': the MCP server ${this.url} has no tool '${name}' (it has: ${shown || 'no tools'})`,
      {
        input: 'tool',
      },
    );
  }

  async snapshot(remote: RemoteRef, signal?: AbortSignal): Promise<TaskSnapshot> {
    try {
      return toSnapshot(
        await this.tasks()
          .task(remote.taskId as TaskId, { requestTimeoutMs: REQUEST_TIMEOUT_MS })
          .snapshot(signal),
      );
    } catch (error) {
      throw toJobError(error, { url: this.url, doing: `reading task ${remote.taskId}`, taskId: remote.taskId });
    }
  }

  async watch(remote: RemoteRef, options: WatchOptions): Promise<TaskOutcome> {
    const doing = `following task ${remote.taskId}`;
    const mapping = { url: this.url, doing, taskId: remote.taskId };
    let execution;
    try {
      execution = await this.tasks().resumeTask(referenceOf(remote), {
        requestTimeoutMs: REQUEST_TIMEOUT_MS,
        signal: options.signal,
      });
    } catch (error) {
      throw toJobError(error, mapping);
    }
    // Stops the blocking tasks/result below once the watch is over, whichever way it ended.
    const done = new AbortController();
    const stop = AbortSignal.any([options.signal, done.signal]);
    try {
      const settling = execution.settle({
        signal: options.signal,
        close: false,
        onEvent: async (event) => {
          if (event.type === 'task') await options.onStatus(toSnapshot(event.task));
        },
      });
      settling.catch(() => undefined);
      // The tasks client polls at the server's interval; the blocking tasks/result answers the moment the task ends.
      const early = this.blockingResult(remote, stop).then((outcome) => outcome ?? new Promise<never>(() => undefined));
      const first = await Promise.race([
        settling.then((settlement) => ({ settlement })),
        early.then((outcome) => ({ outcome })),
      ]);
      if ('outcome' in first) return first.outcome;
      const { outcome, lastTask } = first.settlement;
      const task = lastTask === undefined ? undefined : toSnapshot(lastTask);
      switch (outcome.status) {
        case 'completed':
          return { status: 'completed', result: outcome.result as unknown as JsonObject, ...(task ? { task } : {}) };
        case 'cancelled':
          return { status: 'cancelled', ...(task ? { task } : {}) };
        case 'failed': {
          // A 2025-11-25 task fails when its tool reports isError: fetch that result so its text reaches the user.
          const result = await this.storedResult(remote.taskId);
          const code = outcome.error.code;
          return {
            status: 'failed',
            error: {
              message: outcome.error.message || task?.statusMessage || 'The task failed',
              ...(code === undefined ? {} : { code }),
              ...(outcome.error.data === undefined ? {} : { data: outcome.error.data }),
            },
            ...(result === undefined ? {} : { result }),
            ...(task ? { task } : {}),
          };
        }
      }
    } catch (error) {
      if (options.signal.aborted) throw options.signal.reason;
      throw toJobError(error, mapping);
    } finally {
      done.abort();
      await execution.detach().catch(() => undefined);
    }
  }

  /**
   * Blocks on `tasks/result` until the task ends and returns its outcome, or undefined when the call gives no
   * usable answer (a cancelled task has no result; an error here is left to the polling watch to classify).
   * The final status the polling watch has not seen yet is recorded from the outcome itself.
   */
  private async blockingResult(remote: RemoteRef, signal: AbortSignal): Promise<TaskOutcome | undefined> {
    let result: JsonObject;
    try {
      result = (await this.client.request(
        { method: 'tasks/result', params: { taskId: remote.taskId } } as never,
        z.looseObject({ content: z.array(z.unknown()) }),
        { timeout: MAX_TIMER_MS, signal },
      )) as JsonObject;
    } catch {
      return undefined;
    }
    // In this generation a stored result means the task ended: failed when the tool reported isError, else completed.
    if (result.isError === true) {
      return { status: 'failed', error: { message: resultTextOf(result) ?? 'The tool reported an error' }, result };
    }
    return { status: 'completed', result };
  }

  /** `tasks/result` of a failed task: the tool's isError result, or nothing when the failure was a protocol error. */
  private async storedResult(taskId: string): Promise<JsonObject | undefined> {
    try {
      const result = await this.client.request(
        { method: 'tasks/result', params: { taskId } } as never,
        z.looseObject({ content: z.array(z.unknown()) }),
        { timeout: 10_000 },
      );
      return result as JsonObject;
    } catch {
      return undefined;
    }
  }

  async cancel(remote: RemoteRef, signal?: AbortSignal): Promise<TaskSnapshot> {
    const controller = this.tasks().task(remote.taskId as TaskId, { requestTimeoutMs: REQUEST_TIMEOUT_MS });
    try {
      await controller.cancel(signal);
    } catch (error) {
      // Cancelling a task that already ended is an invalid-params error: read the task back to learn its end.
      if (rpcCode(error) !== -32602) {
        throw toJobError(error, { url: this.url, doing: `cancelling task ${remote.taskId}`, taskId: remote.taskId });
      }
    }
    return this.snapshot(remote, signal);
  }

  async close(): Promise<void> {
    // Not transport.terminateSession(): an HTTP DELETE would discard the session's tasks.
    await this.session?.close().catch(() => undefined);
    await this.client.close().catch(() => undefined);
  }
}

function resultTextOf(result: JsonObject): string | undefined {
  const content = result.content;
  if (!Array.isArray(content)) return undefined;
  const text = content
    .map((block) =>
      block !== null && typeof block === 'object' && !Array.isArray(block) && typeof block.text === 'string'
        ? block.text
        : '',
    )
    .filter((t) => t !== '')
    .join('\n');
  return text === '' ? undefined : text;
}

function endpointIdFor(url: string): string {
  return `mcp-jobs:${url}`;
}

function referenceOf(remote: RemoteRef): SerializedTaskReference {
  return {
    endpointId: remote.endpointId,
    generation: 'v1',
    taskId: remote.taskId as TaskId,
    originalOperation: 'tools/call',
  };
}

function toSnapshot(view: TaskView): TaskSnapshot {
  const status = (REMOTE_STATUSES as readonly string[]).includes(view.status)
    ? (view.status as RemoteStatus)
    : undefined;
  if (status === undefined) {
    throw new JobError(
      'PROTOCOL_ERROR',
      `The MCP server reported task ${view.taskId} in an unknown status '${String(view.status)}'`,
    );
  }
  return {
    taskId: view.taskId,
    status,
    ...(view.statusMessage === undefined ? {} : { statusMessage: view.statusMessage }),
    ttlMs: view.retentionMs,
    ...(view.suggestedPollIntervalMs === undefined ? {} : { pollIntervalMs: view.suggestedPollIntervalMs }),
  };
}

function raceAbort<T>(promise: Promise<T>, signal?: AbortSignal): Promise<T> {
  if (signal === undefined) return promise;
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}
