/**
 * The TaskClient port over the official MCP client (`@modelcontextprotocol/client`) and its generation-neutral tasks
 * client (`@modelcontextprotocol/ext-tasks`), for both task generations over Streamable HTTP:
 *
 * - 2025-11-25 (experimental tasks): tasks live in the MCP session that created them, so submit keeps the session
 *   open (no HTTP DELETE) and records its ID and the server's capabilities; wait and cancel rejoin that session.
 * - 2026-07-28 (the `io.modelcontextprotocol/tasks` extension): stateless; submit records the server's discover
 *   result, and wait and cancel reconnect with it without probing again. Task traffic goes through our own
 *   `rawDispatch` (see v2-dispatch.ts for the upstream limitation).
 *
 * Which generation a job speaks is decided once, at submit (`protocol` input, `auto` by default), and recorded.
 */
import { Client, StreamableHTTPClientTransport, type Tool } from '@modelcontextprotocol/client';
import {
  createTaskSessionFromClient,
  toolDeclarationFromMcpTool,
  type ApplicationInputRequest,
  type ResolvedInputExchangeContext,
  type SerializedTaskReference,
  type TaskEnabledSession,
  type TaskView,
} from '@modelcontextprotocol/ext-tasks/client';
import type { TaskId } from '@modelcontextprotocol/ext-tasks/core';
import { z } from 'zod';
import { describeError, JobError } from '../core/errors.js';
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
import type { Generation, RemoteRef } from '../core/record.js';
import type { InputResponses } from '../core/parse.js';
import { REMOTE_STATUSES, type RemoteStatus } from '../core/status.js';
import { rpcCode, toJobError } from './errors.js';
import { pacedFetch } from './pacing.js';
import { V2_PROTOCOL, v2Dispatch } from './v2-dispatch.js';
import { CLIENT_INFO } from '../version.js';

const V1 = '2025-11-25' as const;
/** Bounds every single request; waiting for a task is not one request and is not bounded by it. */
const REQUEST_TIMEOUT_MS = 60_000;
/** How long cancel keeps reading a 2026-07-28 task back after the server acknowledged the request. */
const V2_CANCEL_SETTLE_MS = 2_000;
const TASKS_EXTENSION = 'io.modelcontextprotocol/tasks';
/** Elicitation lets a task ask for input (`input_required`); answers come from `input-responses`. */
const CLIENT_CAPABILITIES = { elicitation: {} };
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
  /** Answers for tasks that ask for input, by input key (`*`: any request). */
  inputResponses?: InputResponses;
}

const NEGOTIATION = {
  auto: { mode: 'auto' },
  '2025-11-25': { mode: 'legacy' },
  '2026-07-28': { mode: { pin: V2_PROTOCOL } },
} as const;

export class McpTaskClient implements TaskClient {
  constructor(private readonly options: McpTaskClientOptions = {}) {}

  async open(target: ServerTarget, join?: RemoteRef, signal?: AbortSignal): Promise<TaskConnection> {
    const url = new URL(target.url);
    const joinsV2 = join?.generation === V2_PROTOCOL;
    const client =
      join === undefined
        ? new Client(
            { ...CLIENT_INFO },
            { capabilities: CLIENT_CAPABILITIES, versionNegotiation: NEGOTIATION[target.protocol ?? 'auto'] },
          )
        : joinsV2
          ? new Client({ ...CLIENT_INFO }, { capabilities: CLIENT_CAPABILITIES })
          : new RejoinedClient(join.serverCapabilities);
    const fetchImpl = this.options.pollFloorMs === undefined ? fetch : pacedFetch(this.options.pollFloorMs);
    const transport = new StreamableHTTPClientTransport(url, {
      requestInit: { headers: target.headers },
      fetch: fetchImpl,
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
    const doing =
      join === undefined
        ? 'connecting'
        : joinsV2
          ? `reconnecting for task ${join.taskId}`
          : `rejoining the session of task ${join.taskId}`;
    try {
      const prior =
        joinsV2 && join.discover !== undefined
          ? { prior: { kind: 'modern' as const, discover: join.discover as never } }
          : {};
      await raceAbort(client.connect(transport, { timeout: REQUEST_TIMEOUT_MS, ...prior }), signal);
    } catch (error) {
      await client.close().catch(() => undefined);
      const mapped = toJobError(error, {
        url: target.url,
        doing,
        ...(join ? { taskId: join.taskId, generation: join.generation } : {}),
      });
      const pinned = join === undefined && target.protocol !== undefined && target.protocol !== 'auto';
      if (pinned && mapped.code !== 'SERVER_UNREACHABLE') {
        throw new JobError(
          'TASKS_UNSUPPORTED',
          `Input 'protocol' is ${target.protocol}, but the MCP server ${target.url} does not speak it (${describeError(error)}); use protocol: auto, or the generation the server speaks`,
          { input: 'protocol', cause: error },
        );
      }
      throw mapped;
    }
    const generation = join?.generation ?? (client.getProtocolEra() === 'modern' ? V2_PROTOCOL : V1);
    return new McpTaskConnection({
      url: target.url,
      headers: target.headers,
      client,
      transport,
      joined: join,
      generation,
      fetchImpl,
      inputResponses: this.options.inputResponses,
    });
  }
}

interface ConnectionParts {
  url: string;
  headers: Record<string, string>;
  client: Client;
  transport: StreamableHTTPClientTransport;
  joined: RemoteRef | undefined;
  generation: Generation;
  fetchImpl: typeof fetch;
  inputResponses: InputResponses | undefined;
}

class McpTaskConnection implements TaskConnection {
  private session: TaskEnabledSession | undefined;
  private readonly url: string;
  private readonly client: Client;
  private readonly transport: StreamableHTTPClientTransport;
  private readonly v2: boolean;
  /** Set when a task asked for input nobody supplied: the watch ends with it. */
  private unanswered: JobError | undefined;
  /** Aborted with the unanswered request: ends the watch without answering it. */
  private readonly inputStop = new AbortController();

  constructor(private readonly parts: ConnectionParts) {
    this.url = parts.url;
    this.client = parts.client;
    this.transport = parts.transport;
    this.v2 = parts.generation === V2_PROTOCOL;
  }

  private tasks(): TaskEnabledSession {
    const onInputRequest = (request: ApplicationInputRequest, context: ResolvedInputExchangeContext): Promise<never> =>
      this.answer(request, context) as Promise<never>;
    const common = {
      endpointId: this.parts.joined?.endpointId ?? endpointIdFor(this.url),
      onInputRequest,
      // Failures reach us through the calls that caused them; the default handler would print them a second time.
      onError: () => undefined,
    };
    this.session ??= this.v2
      ? createTaskSessionFromClient(this.client, {
          ...common,
          rawDispatch: v2Dispatch(this.url, this.parts.headers, this.parts.fetchImpl),
          v2RequestFraming: {
            protocolVersion: V2_PROTOCOL,
            clientInfo: { ...CLIENT_INFO },
            clientCapabilities: CLIENT_CAPABILITIES,
          },
        })
      : createTaskSessionFromClient(this.client, common);
    return this.session;
  }

  /** What error messages about a task need: the server, the task and the generation it was created with. */
  private about(remote: RemoteRef): { url: string; taskId: string; generation: string } {
    return { url: this.url, taskId: remote.taskId, generation: remote.generation };
  }

  /** Answers a task's input request from `input-responses`, or ends the watch saying what the task asked. */
  private async answer(request: ApplicationInputRequest, context: ResolvedInputExchangeContext): Promise<unknown> {
    const responses = this.parts.inputResponses ?? {};
    const answer = (context.inputId !== undefined ? responses[context.inputId] : undefined) ?? responses['*'];
    if (request.kind === 'elicitation' && answer !== undefined) return answer;
    const asked = typeof request.params?.message === 'string' ? `: ${request.params.message}` : '';
    this.unanswered ??= new JobError(
      'INPUT_REQUIRED',
      `Task ${context.taskId ?? ''} asks for input (${request.kind}${context.inputId ? ` '${context.inputId}'` : ''})${asked.replace(/[.:]*$/, '')}. Answer it with the input-responses input of wait, or cancel the job`,
      { input: 'input-responses', retryable: false },
    );
    this.inputStop.abort(this.unanswered);
    // Leave the request unanswered (a later wait may answer it): upstream limitation, ext-tasks 0.2.2 answers an
    // elicitation with {action: "cancel"} when the handler throws, unless the input lifetime has ended — so wait
    // for the end of the watch, which ends that lifetime, before giving up.
    if (context.signal !== undefined && !context.signal.aborted) {
      await new Promise((resolve) => context.signal!.addEventListener('abort', resolve, { once: true }));
    }
    throw this.unanswered;
  }

  async submit(call: ToolCall, signal?: AbortSignal): Promise<SubmittedTask> {
    const capabilities = (this.client.getServerCapabilities() ?? {}) as Record<string, unknown>;
    if (this.v2) {
      const extensions = capabilities.extensions as Record<string, unknown> | undefined;
      if (extensions?.[TASKS_EXTENSION] === undefined) {
        throw new JobError(
          'TASKS_UNSUPPORTED',
          `The MCP server ${this.url} speaks ${V2_PROTOCOL} without the ${TASKS_EXTENSION} extension, so '${call.tool}' cannot run as a background job`,
          { input: 'server' },
        );
      }
    } else {
      const taskRequests = (capabilities.tasks as { requests?: { tools?: { call?: unknown } } } | undefined)?.requests;
      if (taskRequests?.tools?.call === undefined) {
        throw new JobError(
          'TASKS_UNSUPPORTED',
          `The MCP server ${this.url} does not support tasks for tool calls (its capabilities have no tasks.requests.tools.call), so '${call.tool}' cannot run as a background job`,
          { input: 'server' },
        );
      }
    }
    const tool = await this.findTool(call.tool, signal);
    // 2026-07-28 servers decide per call whether a tool call becomes a task; 2025-11-25 tools declare it.
    const support = tool.execution?.taskSupport ?? (this.v2 ? 'optional' : 'forbidden');
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
        // 2026-07-28 has no client TTL: the core says so when task-ttl was given.
        task: { preference: 'require', ...(call.ttlMs === undefined || this.v2 ? {} : { retentionMs: call.ttlMs }) },
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
      const discover = this.client.getDiscoverResult();
      const remote: RemoteRef = {
        generation: this.parts.generation,
        taskId,
        protocolVersion: this.v2 ? V2_PROTOCOL : (this.transport.protocolVersion ?? V1),
        serverCapabilities: capabilities,
        endpointId: reference?.endpointId ?? endpointIdFor(this.url),
        ...(this.v2 || this.transport.sessionId === undefined ? {} : { sessionId: this.transport.sessionId }),
        ...(this.v2 && discover !== undefined ? { discover: discover as unknown as Record<string, unknown> } : {}),
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
      throw toJobError(error, { ...this.about(remote), doing: `reading task ${remote.taskId}` });
    }
  }

  async watch(remote: RemoteRef, options: WatchOptions): Promise<TaskOutcome> {
    const doing = `following task ${remote.taskId}`;
    const mapping = { ...this.about(remote), doing };
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
        signal: AbortSignal.any([options.signal, this.inputStop.signal]),
        close: false,
        onEvent: async (event) => {
          if (event.type === 'task') await options.onStatus(toSnapshot(event.task));
        },
      });
      settling.catch(() => undefined);
      // The tasks client polls at the server's interval; on 2025-11-25 the blocking tasks/result answers the moment
      // the task ends. (2026-07-28 has no tasks/result: polling at the server's pollIntervalMs is the protocol.)
      const early = this.v2
        ? new Promise<never>(() => undefined)
        : this.blockingResult(remote, stop).then((outcome) => outcome ?? new Promise<never>(() => undefined));
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
          // (A 2026-07-28 task fails only with a JSON-RPC error, which the outcome carries.)
          const result = this.v2 ? undefined : await this.taskResult(remote.taskId, { timeout: 10_000 });
          const code = outcome.error.code;
          return {
            status: 'failed',
            error: {
              // ext-tasks only knows the status message ('Task failed' without one): the tool's own words say more.
              message:
                (result === undefined ? undefined : resultTextOf(result)) ||
                outcome.error.message ||
                task?.statusMessage ||
                'The task failed',
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
      if (this.unanswered !== undefined) throw this.unanswered;
      if (this.inputStop.signal.aborted) throw this.inputStop.signal.reason;
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
    const result = await this.taskResult(remote.taskId, { timeout: MAX_TIMER_MS, signal });
    if (result === undefined) return undefined;
    // In this generation a stored result means the task ended: failed when the tool reported isError, else completed.
    if (result.isError === true) {
      return { status: 'failed', error: { message: resultTextOf(result) ?? 'The tool reported an error' }, result };
    }
    return { status: 'completed', result };
  }

  /**
   * `tasks/result` (2025-11-25): the task's tool result, or undefined when there is none to give (a cancelled task,
   * a failure that was a protocol error) or the call ends first.
   */
  private async taskResult(
    taskId: string,
    options: { timeout: number; signal?: AbortSignal },
  ): Promise<JsonObject | undefined> {
    try {
      return (await this.client.request(
        { method: 'tasks/result', params: { taskId } } as never,
        z.looseObject({ content: z.array(z.unknown()) }),
        options,
      )) as JsonObject;
    } catch {
      return undefined;
    }
  }

  async cancel(remote: RemoteRef, signal?: AbortSignal): Promise<TaskSnapshot> {
    // Through the controller, not an execution: ext-tasks' execution.cancel() marks the task cancelled locally on
    // the server's acknowledgement, which on 2026-07-28 does not mean it was cancelled.
    const controller = this.tasks().task(remote.taskId as TaskId, { requestTimeoutMs: REQUEST_TIMEOUT_MS });
    try {
      await controller.cancel(signal);
    } catch (error) {
      // 2025-11-25: cancelling a task that already ended is an invalid-params error; read it back to learn its end.
      if (this.v2 || rpcCode(error) !== -32602) {
        throw toJobError(error, { ...this.about(remote), doing: `cancelling task ${remote.taskId}` });
      }
    }
    let task = await this.snapshot(remote, signal);
    // 2026-07-28 cancellation is a request the server acts on in its own time: give it a moment to settle.
    const until = Date.now() + V2_CANCEL_SETTLE_MS;
    while (
      this.v2 &&
      task.status !== 'cancelled' &&
      task.status !== 'completed' &&
      task.status !== 'failed' &&
      Date.now() < until
    ) {
      await new Promise((resolve) => setTimeout(resolve, Math.min(task.pollIntervalMs ?? 200, 200)));
      if (signal?.aborted) break;
      task = await this.snapshot(remote, signal);
    }
    return task;
  }

  async close(): Promise<void> {
    // Not transport.terminateSession(): an HTTP DELETE would discard the session's tasks. And not session.close():
    // ext-tasks closes the executions it still owns, which cancels every task that has not ended — a wait that
    // gives up (cancel-on-timeout: false, input nobody answered) must leave the task as it is.
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
    generation: remote.generation === V2_PROTOCOL ? 'v2' : 'v1',
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
