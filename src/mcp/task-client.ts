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
 * ext-tasks creates the task (`callTool` + `handoff`). Following, reading, listing and cancelling a task are ours,
 * on plain JSON-RPC requests, because of upstream limitations of ext-tasks 0.2.2:
 * - `settle()` turns a transport error while it polls (DispatchError "MCP client request failed") into a `failed`
 *   outcome, indistinguishable from a task the server failed: a network blip would end the job;
 * - its 2026-07-28 decoding requires `resultType: "complete"` inside an inlined result, which servers (and the
 *   extension's own examples) omit;
 * - its 2025-11-25 cancel refuses ("Task cancellation is not supported") when the server does not declare
 *   `capabilities.tasks.cancel`, although such servers (the SDK's example servers) honour `tasks/cancel`;
 * - its fallback answers an elicitation it cannot tie to a task with `{action: "cancel"}`, declining questions that
 *   `input-responses` had answers for.
 * So every request here is bounded by what is left of the caller's deadline, every failure becomes a JobError the
 * core can retry or report, and only what the server says ends a task.
 */
import { Client, StreamableHTTPClientTransport, type Tool, type Transport } from '@modelcontextprotocol/client';
import {
  createTaskSessionFromClient,
  toolDeclarationFromMcpTool,
  type SerializedTaskReference,
  type TaskEnabledSession,
} from '@modelcontextprotocol/ext-tasks/client';
import { z } from 'zod';
import { describeError, isJobError, JobError } from '../core/errors.js';
import { formatDuration, type InputResponse, type InputResponses, type JsonObject } from '../core/parse.js';
import type {
  ServerTarget,
  SubmittedTask,
  TaskClient,
  TaskConnection,
  TaskOutcome,
  TaskSnapshot,
  ToolInfo,
  ToolCall,
  ServerQuestion,
  WatchOptions,
} from '../core/ports.js';
import type { Generation, RemoteRef, SessionRef } from '../core/record.js';
import { backoff } from '../core/retry.js';
import { isTerminal, localStatus } from '../core/status.js';
import { inert } from '../core/text.js';
import { rpcCode, toJobError, type MappingContext } from './errors.js';
import { sessionStream } from './push-stream.js';
import { V2_PROTOCOL, v2Dispatch } from './v2-dispatch.js';
import { listenForTask } from './v2-listen.js';
import {
  CLIENT_CAPABILITIES,
  decodeLog,
  decodeProgress,
  decodeTask,
  frameV2,
  inlinedError,
  inlinedResult,
  isObject,
  resultTextOf,
  TASKS_EXTENSION,
} from './wire.js';
import { CLIENT_INFO } from '../version.js';

const V1 = '2025-11-25' as const;
/** Bounds every single request (and the deadline bounds it further); waiting for a task is not one request. */
const REQUEST_TIMEOUT_MS = 30_000;
/** How long cancel keeps reading a 2026-07-28 task back after the server acknowledged the request. */
const V2_CANCEL_SETTLE_MS = 2_000;
/** The longest timer Node allows: a blocking wait for a task's end is bounded by our deadline, not by this. */
const MAX_TIMER_MS = 2_147_483_647;
/** How often to poll a task whose server suggests no interval; and never faster than this, whatever it suggests. */
const DEFAULT_POLL_MS = 1_000;
const MIN_POLL_MS = 10;
const RELATED_TASK = 'io.modelcontextprotocol/related-task';

/**
 * A client that rejoined an existing session skips `initialize`, so it never learns the server's capabilities; the
 * tasks client reads them to pick the protocol generation. This hands it the ones recorded at submit.
 */
class RejoinedClient extends Client {
  constructor(private readonly recorded: Record<string, unknown>) {
    super({ ...CLIENT_INFO }, { capabilities: CLIENT_CAPABILITIES });
  }
  override getServerCapabilities(): ReturnType<Client['getServerCapabilities']> {
    return super.getServerCapabilities() ?? (this.recorded as ReturnType<Client['getServerCapabilities']>);
  }
}

export interface McpTaskClientOptions {
  /** Answers for tasks that ask for input, by input key (`*`: any request). */
  inputResponses?: InputResponses;
  /** Told once per deviation from the spec that was read leniently (a warning line, naming the server). */
  warn?: (message: string) => void;
  /**
   * Makes the transport instead of Streamable HTTP to `target.url` (a stdio server process, see stdio.ts). Such a
   * connection speaks 2025-11-25 and has no session to rejoin.
   */
  transport?: () => Transport;
}

const NEGOTIATION = {
  auto: { mode: 'auto' },
  '2025-11-25': { mode: 'legacy' },
  '2026-07-28': { mode: { pin: V2_PROTOCOL } },
} as const;

/** What a request may take: what is left of the deadline, at most `capMs`. */
class Budget {
  constructor(
    private readonly url: string,
    private readonly deadline: number | undefined,
  ) {}

  timeout(capMs = REQUEST_TIMEOUT_MS, doing = 'talking to it'): number {
    if (this.deadline === undefined) return capMs;
    const left = this.deadline - Date.now();
    if (left <= 0) {
      throw new JobError(
        'SERVER_UNREACHABLE',
        `The deadline passed before mcp-jobs could reach the MCP server ${this.url} (${doing})`,
        { retryable: true },
      );
    }
    return Math.min(capMs, left);
  }

  /** Whether a request given `ms` was cut short by the deadline rather than by the per-request bound. */
  cutByDeadline(ms: number, capMs = REQUEST_TIMEOUT_MS): boolean {
    return this.deadline !== undefined && ms < capMs;
  }
}

/** A request that got no answer in its time: the server hangs, or the network dropped the reply. */
function noAnswer(url: string, what: string, ms: number, cause: unknown, byDeadline = false): JobError {
  const given = `${formatDuration(ms)}${byDeadline ? ', all that was left before the deadline' : ''}`;
  return new JobError('SERVER_UNREACHABLE', `The MCP server ${url} did not answer within ${given} (${what})`, {
    cause,
    retryable: true,
  });
}

function isTimeout(error: unknown): boolean {
  for (let link = error as { name?: unknown; code?: unknown; cause?: unknown } | undefined, i = 0; link && i < 8; i++) {
    if (link.code === 'REQUEST_TIMEOUT' || link.name === 'TimeoutError') return true;
    link = link.cause as typeof link;
  }
  return false;
}

export class McpTaskClient implements TaskClient {
  constructor(private readonly options: McpTaskClientOptions = {}) {}

  async open(
    target: ServerTarget,
    join?: SessionRef,
    signal?: AbortSignal,
    deadline?: number,
  ): Promise<McpTaskConnection> {
    const joinsV2 = join?.generation === V2_PROTOCOL;
    const budget = new Budget(target.url, deadline);
    const client =
      join === undefined
        ? new Client(
            { ...CLIENT_INFO },
            { capabilities: CLIENT_CAPABILITIES, versionNegotiation: NEGOTIATION[target.protocol ?? 'auto'] },
          )
        : joinsV2
          ? new Client({ ...CLIENT_INFO }, { capabilities: CLIENT_CAPABILITIES })
          : new RejoinedClient(join.serverCapabilities);
    // A new session's client opens the session's GET stream after initialize, where servers send requests that
    // belong to no other request (elicitations of tools that ask outside tasks/result). A submit with nothing to
    // answer must not listen there: it is about to go away, and a question it takes is lost to the wait that could
    // answer it. So without an answer for any question (`*`: the stream's questions carry no key) the GET is
    // answered "not offered" here, and the server keeps its question.
    const listens = join !== undefined || this.options.inputResponses?.['*'] !== undefined;
    const made = this.options.transport?.();
    const transport =
      (made as StreamableHTTPClientTransport | undefined) ??
      new StreamableHTTPClientTransport(new URL(target.url), {
        requestInit: { headers: target.headers },
        ...(listens ? {} : { fetch: withoutGetStream }),
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
    const connection = new McpTaskConnection({
      url: target.url,
      headers: target.headers,
      client,
      transport,
      joined: join,
      budget,
      inputResponses: this.options.inputResponses,
      warn: this.options.warn,
    });
    const doing =
      join === undefined
        ? 'connecting'
        : joinsV2
          ? 'reconnecting for its task'
          : `rejoining the session${join.sessionId === undefined ? '' : ` ${join.sessionId}`}`;
    let timeoutMs = REQUEST_TIMEOUT_MS;
    try {
      timeoutMs = budget.timeout(REQUEST_TIMEOUT_MS, doing);
      const prior =
        joinsV2 && join.discover !== undefined
          ? { prior: { kind: 'modern' as const, discover: join.discover as never } }
          : {};
      const bound = AbortSignal.timeout(timeoutMs);
      await raceAbort(
        client.connect(transport, { timeout: timeoutMs, ...prior }),
        signal === undefined ? bound : AbortSignal.any([signal, bound]),
      );
    } catch (error) {
      await client.close().catch(() => undefined);
      if (signal?.aborted) throw signal.reason;
      if (isJobError(error)) throw error;
      if (isTimeout(error)) throw noAnswer(target.url, doing, timeoutMs, error, budget.cutByDeadline(timeoutMs));
      const mapped = toJobError(error, {
        url: target.url,
        doing,
        ...(join ? { generation: join.generation } : {}),
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
    connection.connected(join?.generation ?? (client.getProtocolEra() === 'modern' ? V2_PROTOCOL : V1));
    return connection;
  }
}

interface ConnectionParts {
  url: string;
  headers: Record<string, string>;
  client: Client;
  transport: StreamableHTTPClientTransport;
  joined: SessionRef | undefined;
  budget: Budget;
  inputResponses: InputResponses | undefined;
  warn: ((message: string) => void) | undefined;
}

interface RequestOptions {
  signal?: AbortSignal | undefined;
  doing: string;
  taskId?: string;
  /** Waits for the task to end (`tasks/result`): bounded by the deadline only. */
  long?: boolean;
}

export class McpTaskConnection implements TaskConnection {
  private session_: TaskEnabledSession | undefined;
  private readonly url: string;
  /** The MCP client: plain tool calls (plain-call.ts) share its session. */
  readonly client: Client;
  private readonly transport: StreamableHTTPClientTransport;
  private generation: Generation = V1;
  private v2 = false;
  private dispatch: ReturnType<typeof v2Dispatch> | undefined;
  /** Questions nobody had an answer for, by the watch that should hear of them. */
  private readonly questionListeners = new Set<(question: ServerQuestion, answered: boolean) => void>();

  constructor(private readonly parts: ConnectionParts) {
    this.url = parts.url;
    this.client = parts.client;
    this.transport = parts.transport;
    // Before connecting: server requests can arrive on the session's GET stream as soon as it opens.
    this.client.setRequestHandler('elicitation/create', (request) =>
      this.onElicitation(request as unknown as { params?: JsonObject }),
    );
  }

  /** Called once the connection is up, with the generation it speaks. */
  connected(generation: Generation): void {
    this.generation = generation;
    this.v2 = generation === V2_PROTOCOL;
    if (this.v2) this.dispatch = v2Dispatch(this.url, this.parts.headers);
  }

  session(): SessionRef {
    const joined = this.parts.joined;
    if (joined !== undefined) return joined;
    const discover = this.client.getDiscoverResult();
    return {
      generation: this.generation,
      protocolVersion: this.v2 ? V2_PROTOCOL : (this.transport.protocolVersion ?? V1),
      serverCapabilities: (this.client.getServerCapabilities() ?? {}) as Record<string, unknown>,
      endpointId: endpointIdFor(this.url),
      ...(this.v2 || this.transport.sessionId === undefined ? {} : { sessionId: this.transport.sessionId }),
      ...(this.v2 && discover !== undefined ? { discover: discover as unknown as Record<string, unknown> } : {}),
    };
  }

  private tasks(): TaskEnabledSession {
    const common = {
      endpointId: this.parts.joined?.endpointId ?? endpointIdFor(this.url),
      // Failures reach us through the calls that caused them; the default handler would print them a second time.
      onError: () => undefined,
      // Every call passes the declaration submit just listed: without a provider of its own the tasks client would
      // list the tools a second time.
      tools: { currentTool: () => undefined },
    };
    this.session_ ??= this.v2
      ? createTaskSessionFromClient(this.client, {
          ...common,
          rawDispatch: this.keepingCreateReply(v2Dispatch(this.url, this.parts.headers)),
          v2RequestFraming: {
            protocolVersion: V2_PROTOCOL,
            clientInfo: { ...CLIENT_INFO },
            clientCapabilities: CLIENT_CAPABILITIES,
          },
        })
      : createTaskSessionFromClient(this.client, common);
    return this.session_;
  }

  /** Deviations already reported: each once per connection. */
  private readonly deviations = new Set<string>();

  /** A deviation from the spec, read leniently: said once, naming the server. */
  private readonly deviation = (what: string): void => {
    if (this.deviations.has(what)) return;
    this.deviations.add(what);
    this.parts.warn?.(`The MCP server ${this.url} sent ${inert(what)}; mcp-jobs read it leniently`);
  };

  /** decodeTask, noting deviations. */
  private decode(raw: unknown, expectTaskId?: string): TaskSnapshot {
    return decodeTask(raw, this.url, expectTaskId, this.deviation);
  }

  /** The reply to the last `tools/call` (the task it created): submit records it without asking `tasks/get`. */
  private createReply: JsonObject | undefined;

  private keepingCreateReply(dispatch: ReturnType<typeof v2Dispatch>): ReturnType<typeof v2Dispatch> {
    return async (request, options) => {
      const reply = await dispatch(request, options);
      if ((request as { method?: unknown }).method === 'tools/call' && reply.kind === 'result') {
        this.createReply = reply.result as unknown as JsonObject;
      }
      return reply;
    };
  }

  /** 2025-11-25: the create reply passes through the transport on its way to the tasks client. */
  private keepCreateReplies(): () => void {
    const transport = this.transport;
    const original = transport.onmessage;
    transport.onmessage = (message) => {
      const result = (message as { result?: unknown }).result;
      if (isObject(result) && isObject(result.task)) this.createReply = result;
      original?.call(transport, message);
    };
    return () => {
      transport.onmessage = original;
    };
  }

  private mapping(options: RequestOptions): MappingContext {
    return {
      url: this.url,
      doing: options.doing,
      ...(options.taskId === undefined ? {} : { taskId: options.taskId, generation: this.generation }),
    };
  }

  /**
   * One JSON-RPC request of ours, in the connection's generation, bounded by the deadline. Rejects with a JobError
   * (the server's own JSON-RPC error is its cause, for `rpcCode`), or with the caller's abort reason.
   */
  private async request(method: string, params: JsonObject, options: RequestOptions): Promise<JsonObject> {
    const cap = options.long ? MAX_TIMER_MS : REQUEST_TIMEOUT_MS;
    const timeoutMs = this.parts.budget.timeout(cap, options.doing);
    const bound = AbortSignal.timeout(timeoutMs);
    const signal = options.signal === undefined ? bound : AbortSignal.any([options.signal, bound]);
    try {
      if (this.v2) {
        const reply = await this.dispatch!(frameV2(method, params) as never, { signal });
        if (reply.kind === 'error') throw new RpcReply(reply.error as { code: number; message: string });
        if (!isObject(reply.result)) throw new SyntaxError(`${method} answered a result that is not an object`);
        return reply.result;
      }
      return (await this.client.request({ method, params } as never, z.looseObject({}), {
        signal,
        timeout: timeoutMs,
      })) as JsonObject;
    } catch (error) {
      if (options.signal?.aborted) throw options.signal.reason;
      if (bound.aborted || isTimeout(error)) {
        throw noAnswer(this.url, method, timeoutMs, error, this.parts.budget.cutByDeadline(timeoutMs, cap));
      }
      throw toJobError(error, this.mapping(options));
    }
  }

  async submit(call: ToolCall, signal?: AbortSignal): Promise<SubmittedTask> {
    const capabilities = (this.client.getServerCapabilities() ?? {}) as Record<string, unknown>;
    const tool = inert(call.tool);
    if (this.v2) {
      const extensions = capabilities.extensions as Record<string, unknown> | undefined;
      if (extensions?.[TASKS_EXTENSION] === undefined) {
        throw new JobError(
          'TASKS_UNSUPPORTED',
          `The MCP server ${this.url} speaks ${V2_PROTOCOL} without the ${TASKS_EXTENSION} extension, so '${tool}' cannot run as a background job`,
          { input: 'server' },
        );
      }
    } else {
      const taskRequests = (capabilities.tasks as { requests?: { tools?: { call?: unknown } } } | undefined)?.requests;
      if (taskRequests?.tools?.call === undefined) {
        throw new JobError(
          'TASKS_UNSUPPORTED',
          `The MCP server ${this.url} does not support tasks for tool calls (its capabilities have no tasks.requests.tools.call), so '${tool}' cannot run as a background job`,
          { input: 'server' },
        );
      }
    }
    const found = await this.findTool(call.tool, signal);
    // 2026-07-28 servers decide per call whether a tool call becomes a task; 2025-11-25 tools declare it.
    const support = found.execution?.taskSupport ?? (this.v2 ? 'optional' : 'forbidden');
    if (support === 'forbidden') {
      throw new JobError(
        'TASKS_UNSUPPORTED',
        `Tool '${tool}' on ${this.url} does not allow running as a task (execution.taskSupport is ${found.execution?.taskSupport === undefined ? 'not set, which means forbidden' : 'forbidden'})`,
        { input: 'tool' },
      );
    }
    const doing = `calling tool '${tool}'`;
    let timeoutMs = REQUEST_TIMEOUT_MS;
    this.createReply = undefined;
    const restore = this.v2 ? () => undefined : this.keepCreateReplies();
    try {
      timeoutMs = this.parts.budget.timeout(REQUEST_TIMEOUT_MS, doing);
      const execution = await this.tasks().callTool(call.tool, call.arguments as never, {
        declaration: toolDeclarationFromMcpTool(found),
        // 2026-07-28 has no client TTL: the core says so when task-ttl was given.
        task: { preference: 'require', ...(call.ttlMs === undefined || this.v2 ? {} : { retentionMs: call.ttlMs }) },
        // 2025-11-25 servers send progress only for a call that carries a token; a later wait hears it on the
        // session's stream. (2026-07-28 sends no progress for tasks.)
        ...(call.progressToken === undefined || this.v2 ? {} : { metadata: { progressToken: call.progressToken } }),
        requestTimeoutMs: timeoutMs,
        ...(signal === undefined ? {} : { signal }),
      });
      if (execution.kind !== 'task') {
        await execution.close().catch(() => undefined);
        throw new JobError(
          'PROTOCOL_ERROR',
          `The MCP server ${this.url} answered tool '${tool}' at once instead of creating a task`,
          { retryable: false },
        );
      }
      let reference: SerializedTaskReference | undefined;
      await execution.handoff((r) => {
        reference = r;
      });
      const taskId = execution.handle.taskId;
      const remote: RemoteRef = {
        ...this.session(),
        taskId,
        endpointId: reference?.endpointId ?? endpointIdFor(this.url),
      };
      // The create reply holds the task as created: no tasks/get needed. Read generously; a reply we cannot read
      // (the tasks client accepted it) stands for a task that works.
      let task: TaskSnapshot = { taskId, status: 'working' };
      try {
        if (this.createReply !== undefined) task = { ...this.decode(this.createReply, taskId), taskId };
      } catch {
        // keep the minimal snapshot
      }
      return { remote, task };
    } catch (error) {
      if (signal?.aborted) throw signal.reason;
      if (isJobError(error)) throw error;
      // The tasks client's strict decoding refused a create reply we can read: the task exists, so it is ours.
      const created = this.readableCreateReply(error);
      if (created !== undefined) return created;
      if (isTimeout(error)) {
        throw noAnswer(
          this.url,
          `tools/call of '${tool}'`,
          timeoutMs,
          error,
          this.parts.budget.cutByDeadline(timeoutMs),
        );
      }
      throw toJobError(error, { url: this.url, doing });
    } finally {
      restore();
    }
  }

  /** A task created by a reply the tasks client could not decode strictly, read generously; or undefined. */
  private readableCreateReply(error: unknown): SubmittedTask | undefined {
    const reply = this.createReply;
    // A reply that is no task (an immediate result, an input request) is not read here.
    if (reply === undefined || (this.v2 ? reply.resultType !== 'task' : !isObject(reply.task))) return undefined;
    let task: TaskSnapshot;
    try {
      task = this.decode(reply);
    } catch {
      return undefined;
    }
    this.deviation(`a create reply the MCP tasks client refused (${describeError(error)})`);
    return { remote: { ...this.session(), taskId: task.taskId, endpointId: endpointIdFor(this.url) }, task };
  }

  private async findTool(name: string, signal?: AbortSignal): Promise<Tool> {
    const listed = await this.listTools(signal);
    const tool = listed.find((t) => t.name === name);
    if (tool !== undefined) return tool;
    const seen = listed.map((t) => t.name);
    const shown =
      seen
        .slice(0, 20)
        .map((t) => inert(t))
        .join(', ') + (seen.length > 20 ? `, … (${seen.length} in all)` : '');
    throw new JobError(
      'TOOL_NOT_FOUND',
      `Input 'tool': the MCP server ${this.url} has no tool '${inert(name)}' (it has: ${shown || 'no tools'})`,
      { input: 'tool' },
    );
  }

  /** Every page of `tools/list`. */
  private async listTools(signal?: AbortSignal): Promise<Tool[]> {
    const tools: Tool[] = [];
    let cursor: string | undefined;
    let timeoutMs = REQUEST_TIMEOUT_MS;
    try {
      for (let page = 0; page < 100; page++) {
        timeoutMs = this.parts.budget.timeout(REQUEST_TIMEOUT_MS, 'listing tools');
        const listing = await this.client.listTools(cursor === undefined ? {} : { cursor }, {
          timeout: timeoutMs,
          ...(signal === undefined ? {} : { signal }),
        });
        tools.push(...listing.tools);
        cursor = listing.nextCursor;
        if (cursor === undefined) break;
      }
    } catch (error) {
      if (signal?.aborted) throw signal.reason;
      if (isJobError(error)) throw error;
      if (isTimeout(error)) {
        throw noAnswer(this.url, 'tools/list', timeoutMs, error, this.parts.budget.cutByDeadline(timeoutMs));
      }
      throw toJobError(error, { url: this.url, doing: 'listing tools' });
    }
    return tools;
  }

  /** Every tool the server lists, with its task support, for a host that shows them. */
  async tools(signal?: AbortSignal): Promise<ToolInfo[]> {
    return (await this.listTools(signal)).map((tool) => ({
      name: tool.name,
      ...(tool.description === undefined ? {} : { description: tool.description }),
      inputSchema: (tool.inputSchema ?? {}) as JsonObject,
      taskSupport: tool.execution?.taskSupport ?? (this.v2 ? 'optional' : 'forbidden'),
    }));
  }

  async sessionTasks(signal?: AbortSignal): Promise<TaskSnapshot[] | undefined> {
    // 2026-07-28 has no tasks/list: a task whose creation reply was lost cannot be found.
    if (this.v2) return undefined;
    const tasks: TaskSnapshot[] = [];
    let cursor: string | undefined;
    for (let page = 0; page < 100; page++) {
      let listing: JsonObject;
      try {
        listing = await this.request('tasks/list', cursor === undefined ? {} : { cursor }, {
          signal,
          doing: 'listing the session’s tasks',
        });
      } catch (error) {
        // A server without tasks/list cannot tell either.
        if (rpcCode(error) === -32601) return undefined;
        throw error;
      }
      const entries = Array.isArray(listing.tasks) ? listing.tasks : [];
      for (const entry of entries) tasks.push(this.decode(entry));
      cursor = typeof listing.nextCursor === 'string' && listing.nextCursor !== '' ? listing.nextCursor : undefined;
      if (cursor === undefined) break;
    }
    return tasks;
  }

  /** `tasks/get`: the task as the server reports it now, with the raw reply (2026-07-28 inlines the result there). */
  private async read(remote: RemoteRef, signal?: AbortSignal): Promise<{ task: TaskSnapshot; raw: JsonObject }> {
    const raw = await this.request(
      'tasks/get',
      { taskId: remote.taskId },
      { signal, doing: `reading task ${inert(remote.taskId)}`, taskId: remote.taskId },
    );
    return { task: this.decode(raw, remote.taskId), raw };
  }

  async snapshot(remote: RemoteRef, signal?: AbortSignal): Promise<TaskSnapshot> {
    return (await this.read(remote, signal)).task;
  }

  /**
   * Follows a task to its end: polls `tasks/get` at the server's interval (never faster than `pollFloorMs`) and, on
   * 2025-11-25, also waits on the blocking `tasks/result`, which most servers answer the moment the task ends. Any
   * failure of a poll rejects with its JobError; the core decides whether to retry.
   */
  async watch(remote: RemoteRef, options: WatchOptions): Promise<TaskOutcome> {
    const done = new AbortController();
    const signal = AbortSignal.any([options.signal, done.signal]);
    let unanswered: JobError | undefined;
    let wake: () => void = () => undefined;
    const woken = (): Promise<void> => new Promise<void>((resolve) => (wake = resolve));
    const listener = (question: ServerQuestion, answered: boolean): void => {
      if (question.taskId !== undefined && question.taskId !== remote.taskId) return;
      if (!answered) unanswered ??= this.unansweredError(remote, question);
      void Promise.resolve(options.onQuestion?.(question, answered))
        .catch(() => undefined)
        .finally(() => {
          if (!answered) wake();
        });
    };
    this.questionListeners.add(listener);
    // The session's GET stream (2025-11-25, rejoined): the server pushes the task's status there the instant it is
    // stored, with progress and log messages, and sends the requests it makes outside tasks/result (elicitations).
    let pushed: { task: TaskSnapshot; raw: JsonObject } | undefined;
    const push = (task: TaskSnapshot, raw: JsonObject): void => {
      pushed = { task, raw };
      wake();
    };
    // Opened (again): read the task at once, for what happened before the stream could carry it.
    const stream = this.pushStream(remote, options, push, () => wake());
    let early: JsonObject | undefined;
    if (!this.v2) {
      void this.blockingResult(remote, signal).then((result) => {
        early = result;
        if (result !== undefined) wake();
      });
    }
    let last: TaskSnapshot | undefined;
    try {
      for (;;) {
        const next = woken();
        if (unanswered !== undefined) throw unanswered;
        if (early !== undefined) {
          const outcome = await this.finished(remote, early, signal);
          if (outcome !== undefined) return outcome;
          early = undefined;
        }
        // A status the server pushed stands for a poll: the poll timer starts again from it.
        const taken = pushed;
        pushed = undefined;
        const { task, raw } = taken ?? (await this.read(remote, signal));
        // A question that came while this poll was on its way is newer than the status it brings back.
        if (unanswered !== undefined) throw unanswered;
        if (last === undefined || !sameSnapshot(last, task)) {
          last = task;
          await options.onStatus(task);
        }
        if (isTerminal(localStatus(task.status))) return await this.outcome(remote, task, raw, early, signal);
        if (task.status === 'input_required' && this.v2) await this.answerV2(remote, raw, options, signal);
        if (unanswered !== undefined) throw unanswered;
        const interval = Math.max(task.pollIntervalMs ?? DEFAULT_POLL_MS, options.pollFloorMs ?? 0, MIN_POLL_MS);
        await sleepOr(interval, signal, next);
      }
    } catch (error) {
      if (options.signal.aborted) throw options.signal.reason;
      throw error;
    } finally {
      this.questionListeners.delete(listener);
      done.abort();
      await stream?.close();
    }
  }

  /**
   * Where the server pushes the task's news: the session's GET stream (2025-11-25, rejoined), or a
   * `subscriptions/listen` for the task (2026-07-28). Undefined where neither applies (submit's own connection).
   */
  private pushStream(
    remote: RemoteRef,
    options: WatchOptions,
    push: (task: TaskSnapshot, raw: JsonObject) => void,
    onOpen: () => void,
  ): { close(): Promise<void> } | undefined {
    const joined = this.parts.joined;
    if (this.v2) {
      // One subscription per server for every task this process waits on there.
      const leave = listenForTask(this.url, this.parts.headers, remote.taskId, { onTask: push, onOpen });
      return { close: leave };
    }
    if (joined?.sessionId === undefined) return undefined;
    const stream = sessionStream({
      url: this.url,
      headers: this.parts.headers,
      sessionId: joined.sessionId,
      protocolVersion: joined.protocolVersion,
      onMessage: (message) => this.onPushed(message, remote, options, (task) => push(task, {})),
      onOpen,
    });
    stream.start();
    return stream;
  }

  /**
   * One message on the session's GET stream. The task's status, progress and log messages go to the watch; requests
   * (elicitations) and anything else go to the client, which answers requests over POST as on any stream.
   */
  private onPushed(
    message: JsonObject,
    remote: RemoteRef,
    options: WatchOptions,
    push: (task: TaskSnapshot) => void,
  ): void {
    const params = isObject(message.params) ? message.params : {};
    switch (message.id === undefined ? message.method : undefined) {
      case 'notifications/tasks/status': {
        if (params.taskId !== remote.taskId) return;
        try {
          push(this.decode(params, remote.taskId));
        } catch {
          // A status we cannot read: the next poll reads it again.
        }
        return;
      }
      case 'notifications/progress': {
        const update = decodeProgress(params);
        if (update !== undefined) void Promise.resolve(options.onProgress?.(update)).catch(() => undefined);
        return;
      }
      case 'notifications/message': {
        const entry = decodeLog(params);
        if (entry !== undefined) void Promise.resolve(options.onLog?.(entry)).catch(() => undefined);
        return;
      }
      default:
        this.transport.onmessage?.(message as never);
    }
  }

  /**
   * Waits on `tasks/result` (2025-11-25) until the task ends and returns its tool result; undefined when the call
   * gives no result (a cancelled task, a task that failed with a JSON-RPC error: polling classifies those). A dropped
   * stream is opened again after a pause; the polling beside it notices when the server itself is gone.
   */
  private async blockingResult(remote: RemoteRef, signal: AbortSignal): Promise<JsonObject | undefined> {
    const pause = backoff();
    while (!signal.aborted) {
      try {
        // A JSON-RPC error (undefined here) is an answer: polling classifies the task's end. Only a dropped or
        // failed stream is asked again.
        return await this.taskResult(remote, signal, true);
      } catch (error) {
        if (signal.aborted || !isJobError(error) || rpcCode(error) !== undefined) return undefined;
      }
      await sleepOr(pause.next(), signal).catch(() => undefined);
    }
    return undefined;
  }

  /** `tasks/result` (2025-11-25): the task's tool result, or undefined when the server answers an error. */
  private async taskResult(remote: RemoteRef, signal: AbortSignal, long: boolean): Promise<JsonObject | undefined> {
    try {
      return await this.request(
        'tasks/result',
        { taskId: remote.taskId },
        { signal, long, doing: `waiting for the result of task ${inert(remote.taskId)}`, taskId: remote.taskId },
      );
    } catch (error) {
      if (isJobError(error) && rpcCode(error) !== undefined && error.code !== 'TASK_LOST') return undefined;
      throw error;
    }
  }

  /** The blocking `tasks/result` answered: the task ended. Its final status message is read on the way, if it can be. */
  private async finished(remote: RemoteRef, result: JsonObject, signal: AbortSignal): Promise<TaskOutcome | undefined> {
    const final = await this.snapshot(remote, AbortSignal.any([signal, AbortSignal.timeout(2_000)])).catch(
      () => undefined,
    );
    // A server whose tasks/result does not block may answer before the task ended: the server's status decides.
    if (final !== undefined && !isTerminal(localStatus(final.status))) return undefined;
    const task = final !== undefined && isTerminal(localStatus(final.status)) ? { task: final } : {};
    // In this generation a stored result means the task ended: failed when the tool reported isError.
    if (result.isError === true) {
      return {
        status: 'failed',
        error: { message: resultTextOf(result) ?? 'The tool reported an error' },
        result,
        ...task,
      };
    }
    return { status: 'completed', result, ...task };
  }

  /** What a task that `tasks/get` reports ended means, with its result or error. */
  private async outcome(
    remote: RemoteRef,
    task: TaskSnapshot,
    raw: JsonObject,
    early: JsonObject | undefined,
    signal: AbortSignal,
  ): Promise<TaskOutcome> {
    if (task.status === 'cancelled') return { status: 'cancelled', task };
    if (this.v2) {
      if (task.status === 'completed') {
        const result = inlinedResult(raw);
        if (result === undefined) {
          throw new JobError(
            'PROTOCOL_ERROR',
            `The MCP server ${this.url} reported task ${inert(task.taskId)} completed without its result (tasks/get has no 'result' object)`,
            { retryable: false },
          );
        }
        return { status: 'completed', result, task };
      }
      return {
        status: 'failed',
        error: inlinedError(raw) ?? { message: task.statusMessage ?? 'The task failed' },
        task,
      };
    }
    // 2025-11-25: the result (or the JSON-RPC error the tool call ended with) comes from tasks/result.
    let result = early;
    let error: { code?: number; message: string; data?: unknown } | undefined;
    if (result === undefined) {
      try {
        result = await this.request(
          'tasks/result',
          { taskId: remote.taskId },
          { signal, doing: `reading the result of task ${inert(remote.taskId)}`, taskId: remote.taskId },
        );
      } catch (failure) {
        const code = rpcCode(failure);
        if (code === undefined || (isJobError(failure) && failure.code === 'TASK_LOST')) throw failure;
        // A passing server error must not cost a completed task its result: the wait retries.
        if (task.status === 'completed' && isJobError(failure) && failure.retryable) throw failure;
        const cause = (failure as JobError).cause as { message?: string; data?: unknown } | undefined;
        error = {
          code,
          message: typeof cause?.message === 'string' ? cause.message : describeError(failure),
          ...(cause?.data === undefined ? {} : { data: cause.data }),
        };
      }
    }
    if (task.status === 'completed') {
      if (result === undefined) {
        throw new JobError(
          'PROTOCOL_ERROR',
          `The MCP server ${this.url} reported task ${inert(task.taskId)} completed, but tasks/result gave no result (${error?.message ?? 'no reply'})`,
          { retryable: false },
        );
      }
      return { status: 'completed', result, task };
    }
    return {
      status: 'failed',
      error: {
        // The tool's own words say more than a status message.
        message:
          (result === undefined ? undefined : resultTextOf(result)) ??
          error?.message ??
          task.statusMessage ??
          'The task failed',
        ...(error?.code === undefined ? {} : { code: error.code }),
        ...(error?.data === undefined ? {} : { data: error.data }),
      },
      ...(result === undefined ? {} : { result }),
      task,
    };
  }

  /** Answers a 2026-07-28 task's input requests from `input-responses` (`tasks/update`), or ends the watch. */
  private async answerV2(
    remote: RemoteRef,
    raw: JsonObject,
    options: WatchOptions,
    signal: AbortSignal,
  ): Promise<void> {
    const requests = isObject(raw.inputRequests) ? raw.inputRequests : {};
    const answers: Record<string, InputResponse> = {};
    for (const [key, request] of Object.entries(requests)) {
      const answer = this.answerFor(key);
      const method = isObject(request) ? request.method : undefined;
      if (answer !== undefined && method === 'elicitation/create') {
        answers[key] = answer;
        continue;
      }
      const params = isObject(request) && isObject(request.params) ? request.params : {};
      const question: ServerQuestion = {
        message: `${typeof method === 'string' ? method.replace('elicitation/create', 'elicitation') : 'request'} '${key}'${typeof params.message === 'string' ? `: ${params.message}` : ''}`,
        taskId: remote.taskId,
      };
      await options.onQuestion?.(question, false);
      throw this.unansweredError(remote, question);
    }
    if (Object.keys(answers).length === 0) return;
    await this.request(
      'tasks/update',
      { taskId: remote.taskId, inputResponses: answers as unknown as JsonObject },
      { signal, doing: `answering task ${inert(remote.taskId)}`, taskId: remote.taskId },
    );
  }

  private answerFor(key: string | undefined): InputResponse | undefined {
    const responses = this.parts.inputResponses ?? {};
    return (key === undefined ? undefined : responses[key]) ?? responses['*'];
  }

  /**
   * A server asks a question (`elicitation/create`), on the `tasks/result` stream or on the session's GET stream.
   * Answered from `input-responses`; otherwise left unanswered (a later answer may still reach it) and reported to
   * the watch of its task, which ends saying what the server asked.
   */
  private onElicitation(request: { params?: JsonObject }): Promise<InputResponse & Record<string, unknown>> {
    const params = request.params ?? {};
    const answer = this.answerFor(undefined);
    const meta = isObject(params._meta) ? params._meta : {};
    const related = isObject(meta[RELATED_TASK]) ? meta[RELATED_TASK].taskId : undefined;
    const question: ServerQuestion = {
      message: `elicitation${typeof params.message === 'string' ? `: ${params.message}` : ''}`,
      ...(typeof related === 'string' ? { taskId: related } : {}),
    };
    for (const listener of this.questionListeners) listener(question, answer !== undefined);
    if (answer !== undefined) return Promise.resolve({ ...answer });
    return new Promise<never>(() => undefined);
  }

  private unansweredError(remote: RemoteRef, question: ServerQuestion): JobError {
    return new JobError(
      'INPUT_REQUIRED',
      `Task ${inert(remote.taskId)} asks for input (${inert(question.message).replace(/[.:]*$/, '')}). Answer it with the input-responses input of wait, or cancel the job`,
      { input: 'input-responses', retryable: false },
    );
  }

  async cancel(remote: RemoteRef, signal?: AbortSignal): Promise<TaskSnapshot> {
    const doing = `cancelling task ${inert(remote.taskId)}`;
    try {
      // Sent whatever the server's capabilities say: servers that do not declare tasks.cancel honour it.
      await this.request('tasks/cancel', { taskId: remote.taskId }, { signal, doing, taskId: remote.taskId });
    } catch (error) {
      if (signal?.aborted) throw signal.reason;
      const code = rpcCode(error);
      if (code === undefined) throw error;
      // 2025-11-25: cancelling a task that already ended is an invalid-params error: the read-back below tells its
      // end (or that the task is really gone). Any other error is the server refusing: say what it answered.
      if (this.v2 || code !== -32602) {
        if (isJobError(error, 'TASK_LOST')) throw error;
        const now = await this.snapshot(remote, signal).catch(() => undefined);
        throw new JobError(
          'SERVER_ERROR',
          `The MCP server ${this.url} refused to cancel task ${inert(remote.taskId)} (error ${code}: ${inert(describeError((error as JobError).cause ?? error))})${now === undefined ? '' : `; it still reports the task ${now.status}`}`,
          { cause: error, retryable: false },
        );
      }
    }
    let task = await this.snapshot(remote, signal);
    // 2026-07-28 cancellation is a request the server acts on in its own time: give it a moment to settle.
    const until = Date.now() + V2_CANCEL_SETTLE_MS;
    while (this.v2 && !isTerminal(localStatus(task.status)) && Date.now() < until) {
      await sleepOr(
        Math.max(MIN_POLL_MS, Math.min(task.pollIntervalMs ?? 200, 200)),
        signal ?? new AbortController().signal,
      );
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

/** A JSON-RPC error the server answered (2026-07-28 dispatch): the cause of the JobError a request rejects with. */
class RpcReply extends Error {
  readonly code: number;
  readonly data: unknown;
  constructor(error: { code: number; message: string; data?: unknown }) {
    super(typeof error.message === 'string' ? error.message : `JSON-RPC error ${error.code}`);
    this.name = 'RpcReply';
    this.code = typeof error.code === 'number' ? error.code : -32603;
    this.data = error.data;
  }
}

/** fetch, except that the session's GET stream is "not offered" (405), as a server without one answers. */
const withoutGetStream: typeof fetch = (input, init) =>
  (init?.method ?? 'GET').toUpperCase() === 'GET'
    ? Promise.resolve(new Response(null, { status: 405, headers: { Allow: 'POST, DELETE' } }))
    : fetch(input, init);

function sameSnapshot(a: TaskSnapshot, b: TaskSnapshot): boolean {
  return a.status === b.status && a.statusMessage === b.statusMessage;
}

function endpointIdFor(url: string): string {
  return `mcp-jobs:${url}`;
}

/** Resolves after `ms`, or when `wake` settles first; rejects with the signal's reason when it aborts. */
function sleepOr(ms: number, signal: AbortSignal, wake?: Promise<void>): Promise<void> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<void>((resolve, reject) => {
    const finish = (): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
    };
    const onAbort = (): void => {
      finish();
      reject(signal.reason);
    };
    const timer = setTimeout(
      () => {
        finish();
        resolve();
      },
      Math.min(ms, MAX_TIMER_MS),
    );
    signal.addEventListener('abort', onAbort, { once: true });
    void wake?.then(() => {
      finish();
      resolve();
    });
  });
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
