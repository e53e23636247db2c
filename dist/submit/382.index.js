export const id = 382;
export const ids = [382];
export const modules = {

/***/ 16382:
/***/ ((__unused_webpack_module, __webpack_exports__, __webpack_require__) => {


// EXPORTS
__webpack_require__.d(__webpack_exports__, {
  McpTaskClient: () => (/* binding */ McpTaskClient)
});

// EXTERNAL MODULE: ./node_modules/@modelcontextprotocol/client/dist/index.mjs + 14 modules
var dist = __webpack_require__(27287);
// EXTERNAL MODULE: ./node_modules/@modelcontextprotocol/ext-tasks/dist/client/sdk-client-adapter.js + 15 modules
var sdk_client_adapter = __webpack_require__(17472);
// EXTERNAL MODULE: ./node_modules/zod/v4/classic/schemas.js + 2 modules
var schemas = __webpack_require__(88343);
// EXTERNAL MODULE: ./src/core/errors.ts
var errors = __webpack_require__(74296);
// EXTERNAL MODULE: ./src/core/status.ts
var core_status = __webpack_require__(85009);
;// CONCATENATED MODULE: ./src/mcp/errors.ts
/**
 * Turns what the MCP client libraries throw into our JobErrors. The libraries wrap errors several layers deep
 * (ext-tasks DispatchError → SDK HTTP error → fetch TypeError → system error), so this walks the cause chain.
 */

function chain(error) {
    const out = [];
    let current = error;
    while (current !== null && typeof current === 'object' && out.length < 8) {
        out.push(current);
        current = current.cause;
    }
    return out;
}
const NETWORK_CODES = new Set([
    'ECONNREFUSED',
    'ECONNRESET',
    'ENOTFOUND',
    'EAI_AGAIN',
    'ETIMEDOUT',
    'EPIPE',
    'EHOSTUNREACH',
    'ENETUNREACH',
    'UND_ERR_SOCKET',
    'UND_ERR_CONNECT_TIMEOUT',
    'UND_ERR_HEADERS_TIMEOUT',
    'UND_ERR_BODY_TIMEOUT',
]);
/** The HTTP status an SDK HTTP error carries, if any. */
function httpStatus(links) {
    for (const link of links) {
        const data = link.data;
        if (data !== undefined && data !== null && typeof data === 'object' && typeof data.status === 'number') {
            return data.status;
        }
    }
    return undefined;
}
/** The JSON-RPC error code, if the server answered with a JSON-RPC error. */
function rpcCode(error) {
    for (const link of chain(error)) {
        if (typeof link.code === 'number')
            return link.code;
    }
    return undefined;
}
/**
 * Whether a reply shows a server of the other task generation: a 2026-07-28 server refuses a session request for
 * lack of `_meta` or with -32022 (unsupported version); a 2025-11-25 server refuses a stateless request for lack of
 * a session, or does not know the extension's methods.
 */
function switchedGeneration(generation, code, status, text) {
    if (generation === '2025-11-25')
        return code === -32022 || /missing _meta|_meta\b.*(required|missing)|unsupported protocol version/i.test(text);
    if (generation === '2026-07-28')
        return /no valid session|session id/i.test(text) || (code === -32601 && status !== 404);
    return false;
}
/** Maps any error from the MCP client stack to a JobError with a message naming the server and the task. */
function toJobError(error, ctx) {
    if (error instanceof errors/* JobError */.CR)
        return error;
    const links = chain(error);
    const details = { cause: error, ...(ctx.jobId ? { jobId: ctx.jobId } : {}) };
    const reason = (0,errors/* describeError */.Uc)(error);
    const status = httpStatus(links);
    const code = rpcCode(error);
    const text = links.map((l) => `${l.message ?? ''} ${JSON.stringify(l.data ?? '')}`).join(' ');
    if (ctx.generation !== undefined && switchedGeneration(ctx.generation, code, status, text)) {
        return new errors/* JobError */.CR('PROTOCOL_ERROR', `The MCP server ${ctx.url} no longer speaks protocol ${ctx.generation}, which task ${ctx.taskId ?? ''} was created with: it answers as a ${ctx.generation === '2025-11-25' ? '2026-07-28 (stateless)' : '2025-11-25 (session)'} server. The task cannot be followed or cancelled from here (${reason})`, { ...details, retryable: false });
    }
    if (ctx.taskId !== undefined) {
        const sessionGone = status === 404 || (status === 400 && /session/i.test(text));
        const taskGone = code === -32602 && /task|not found/i.test(text);
        if (sessionGone || taskGone) {
            return new errors/* JobError */.CR('TASK_LOST', `The server no longer has task ${ctx.taskId} (${sessionGone ? 'its MCP session is gone: the server restarted or expired it' : 'it is unknown or expired'}): ${reason}`, { ...details, retryable: false });
        }
    }
    if (links.some((l) => (typeof l.code === 'string' && NETWORK_CODES.has(l.code)) ||
        (l.name === 'TypeError' && /fetch failed/i.test(l.message ?? '')) ||
        /other side closed|socket hang up/i.test(l.message ?? '')) ||
        (status !== undefined && [502, 503, 504].includes(status))) {
        return new errors/* JobError */.CR('SERVER_UNREACHABLE', `Cannot reach the MCP server ${ctx.url} while ${ctx.doing}: ${reason}`, {
            ...details,
            retryable: true,
        });
    }
    if (status === 401 || status === 403) {
        return new errors/* JobError */.CR('SERVER_ERROR', `The MCP server ${ctx.url} refused the request with HTTP ${status} while ${ctx.doing}; check the 'headers' input (authorization): ${reason}`, details);
    }
    if (code !== undefined && code !== -32700) {
        // The server answered with a JSON-RPC error: its code says more than any guess from the message.
        return new errors/* JobError */.CR('SERVER_ERROR', `The MCP server ${ctx.url} returned error ${code} while ${ctx.doing}: ${reason}`, details);
    }
    if (links.some((l) => l.name === 'ProtocolDecodeError' ||
        l.name === 'SyntaxError' ||
        l.name === 'ZodError' ||
        l.name === '$ZodError' ||
        /invalid (json|input)|failed schema validation|unexpected token|is not valid json|parse error/i.test(l.message ?? '')) ||
        code === -32700) {
        return new errors/* JobError */.CR('PROTOCOL_ERROR', `The MCP server ${ctx.url} sent a reply that is not valid MCP while ${ctx.doing}: ${reason}`, details);
    }
    if (status !== undefined) {
        return new errors/* JobError */.CR('SERVER_ERROR', `The MCP server ${ctx.url} answered HTTP ${status} while ${ctx.doing}: ${reason}`, details);
    }
    return new errors/* JobError */.CR('INTERNAL', `Unexpected failure while ${ctx.doing} with ${ctx.url}: ${reason}`, details);
}

;// CONCATENATED MODULE: ./src/mcp/pacing.ts
function pacedFetch(floorMs, base = fetch) {
    const lastPoll = new Map();
    return async (input, init) => {
        const body = typeof init?.body === 'string' ? init.body : undefined;
        if (body !== undefined && body.includes('"tasks/get"')) {
            const taskId = taskIdOf(body);
            if (taskId !== undefined) {
                const wait = (lastPoll.get(taskId) ?? 0) + floorMs - Date.now();
                if (wait > 0)
                    await sleep(wait, init?.signal ?? undefined);
                lastPoll.set(taskId, Date.now());
            }
        }
        return base(input, init);
    };
}
function taskIdOf(body) {
    try {
        const message = JSON.parse(body);
        return message.method === 'tasks/get' && typeof message.params?.taskId === 'string'
            ? message.params.taskId
            : undefined;
    }
    catch {
        return undefined;
    }
}
function sleep(ms, signal) {
    return new Promise((resolve, reject) => {
        if (signal?.aborted)
            return reject(signal.reason);
        const timer = setTimeout(resolve, ms);
        signal?.addEventListener('abort', () => {
            clearTimeout(timer);
            reject(signal.reason);
        }, { once: true });
    });
}

;// CONCATENATED MODULE: ./src/mcp/v2-dispatch.ts
const V2_PROTOCOL = '2026-07-28';
/** Which param names a request in the `Mcp-Name` header. */
const NAME_PARAM = {
    'tools/call': 'name',
    'tasks/get': 'taskId',
    'tasks/update': 'taskId',
    'tasks/cancel': 'taskId',
};
/** A non-JSON-RPC HTTP failure, shaped like the SDK's HTTP errors (`data.status`) for our error mapping. */
class HttpStatusError extends Error {
    data;
    constructor(message, data) {
        super(message);
        this.data = data;
        this.name = 'HttpStatusError';
    }
}
function v2Dispatch(url, headers, fetchImpl = fetch) {
    let nextId = 1;
    return async (request, options) => {
        const { method, params } = request;
        const id = request.id ?? `mcp-jobs-${nextId++}`;
        const nameParam = NAME_PARAM[method];
        const name = nameParam === undefined ? undefined : params?.[nameParam];
        const response = await fetchImpl(url, {
            method: 'POST',
            headers: {
                ...headers,
                'Content-Type': 'application/json',
                Accept: 'application/json, text/event-stream',
                'MCP-Protocol-Version': V2_PROTOCOL,
                'Mcp-Method': method,
                ...(typeof name === 'string' ? { 'Mcp-Name': encodeHeaderValue(name) } : {}),
                ...options?.context?.headers,
            },
            body: JSON.stringify({ jsonrpc: '2.0', id, method, params: params ?? {} }),
            ...(options?.signal === undefined ? {} : { signal: options.signal }),
        });
        const text = await response.text();
        const message = parseReply(text, response.headers.get('content-type') ?? '', id);
        if (message?.error !== undefined)
            return { kind: 'error', error: message.error };
        if (!response.ok || message === undefined || !('result' in message)) {
            throw new HttpStatusError(`HTTP ${response.status} for ${method}: ${text.slice(0, 300)}`, {
                status: response.status,
                text: text.slice(0, 1000),
            });
        }
        return { kind: 'result', result: message.result };
    };
}
/** The JSON-RPC reply to request `id` in a JSON body or an SSE stream. Throws SyntaxError on a body that is neither. */
function parseReply(text, contentType, id) {
    if (text.trim() === '')
        return undefined;
    if (!contentType.includes('text/event-stream'))
        return JSON.parse(text);
    for (const event of text.split(/\r?\n\r?\n/)) {
        const data = event
            .split(/\r?\n/)
            .filter((line) => line.startsWith('data:'))
            .map((line) => line.slice(5).trimStart())
            .join('\n');
        if (data === '')
            continue;
        const message = JSON.parse(data);
        if (message.id === id && ('result' in message || 'error' in message))
            return message;
    }
    return undefined;
}
/** Header values must be ASCII: anything else goes as the extension's `=?base64?…?=` form. */
function encodeHeaderValue(value) {
    return /^[\x20-\x7e]*$/.test(value) ? value : `=?base64?${Buffer.from(value, 'utf8').toString('base64')}?=`;
}

// EXTERNAL MODULE: ./src/version.ts
var version = __webpack_require__(311);
;// CONCATENATED MODULE: ./src/mcp/task-client.ts
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









const V1 = '2025-11-25';
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
class RejoinedClient extends dist/* Client */.Kj {
    recorded;
    constructor(recorded) {
        super({ ...version/* CLIENT_INFO */.J }, { capabilities: {} });
        this.recorded = recorded;
    }
    getServerCapabilities() {
        return super.getServerCapabilities() ?? this.recorded;
    }
}
const NEGOTIATION = {
    auto: { mode: 'auto' },
    '2025-11-25': { mode: 'legacy' },
    '2026-07-28': { mode: { pin: V2_PROTOCOL } },
};
class McpTaskClient {
    options;
    constructor(options = {}) {
        this.options = options;
    }
    async open(target, join, signal) {
        const url = new URL(target.url);
        const joinsV2 = join?.generation === V2_PROTOCOL;
        const client = join === undefined
            ? new dist/* Client */.Kj({ ...version/* CLIENT_INFO */.J }, { capabilities: CLIENT_CAPABILITIES, versionNegotiation: NEGOTIATION[target.protocol ?? 'auto'] })
            : joinsV2
                ? new dist/* Client */.Kj({ ...version/* CLIENT_INFO */.J }, { capabilities: CLIENT_CAPABILITIES })
                : new RejoinedClient(join.serverCapabilities);
        const fetchImpl = this.options.pollFloorMs === undefined ? fetch : pacedFetch(this.options.pollFloorMs);
        const transport = new dist/* StreamableHTTPClientTransport */.jS(url, {
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
        const doing = join === undefined
            ? 'connecting'
            : joinsV2
                ? `reconnecting for task ${join.taskId}`
                : `rejoining the session of task ${join.taskId}`;
        try {
            const prior = joinsV2 && join.discover !== undefined
                ? { prior: { kind: 'modern', discover: join.discover } }
                : {};
            await raceAbort(client.connect(transport, { timeout: REQUEST_TIMEOUT_MS, ...prior }), signal);
        }
        catch (error) {
            await client.close().catch(() => undefined);
            const mapped = toJobError(error, {
                url: target.url,
                doing,
                ...(join ? { taskId: join.taskId, generation: join.generation } : {}),
            });
            const pinned = join === undefined && target.protocol !== undefined && target.protocol !== 'auto';
            if (pinned && mapped.code !== 'SERVER_UNREACHABLE') {
                throw new errors/* JobError */.CR('TASKS_UNSUPPORTED', `Input 'protocol' is ${target.protocol}, but the MCP server ${target.url} does not speak it (${(0,errors/* describeError */.Uc)(error)}); use protocol: auto, or the generation the server speaks`, { input: 'protocol', cause: error });
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
class McpTaskConnection {
    parts;
    session;
    url;
    client;
    transport;
    v2;
    /** Set when a task asked for input nobody supplied: the watch ends with it. */
    unanswered;
    /** Aborted with the unanswered request: ends the watch without answering it. */
    inputStop = new AbortController();
    constructor(parts) {
        this.parts = parts;
        this.url = parts.url;
        this.client = parts.client;
        this.transport = parts.transport;
        this.v2 = parts.generation === V2_PROTOCOL;
    }
    tasks() {
        const onInputRequest = (request, context) => this.answer(request, context);
        const common = {
            endpointId: this.parts.joined?.endpointId ?? endpointIdFor(this.url),
            onInputRequest,
            // Failures reach us through the calls that caused them; the default handler would print them a second time.
            onError: () => undefined,
        };
        this.session ??= this.v2
            ? (0,sdk_client_adapter/* createTaskSessionFromClient */.xH)(this.client, {
                ...common,
                rawDispatch: v2Dispatch(this.url, this.parts.headers, this.parts.fetchImpl),
                v2RequestFraming: {
                    protocolVersion: V2_PROTOCOL,
                    clientInfo: { ...version/* CLIENT_INFO */.J },
                    clientCapabilities: CLIENT_CAPABILITIES,
                },
            })
            : (0,sdk_client_adapter/* createTaskSessionFromClient */.xH)(this.client, common);
        return this.session;
    }
    /** What error messages about a task need: the server, the task and the generation it was created with. */
    about(remote) {
        return { url: this.url, taskId: remote.taskId, generation: remote.generation };
    }
    /** Answers a task's input request from `input-responses`, or ends the watch saying what the task asked. */
    async answer(request, context) {
        const responses = this.parts.inputResponses ?? {};
        const answer = (context.inputId !== undefined ? responses[context.inputId] : undefined) ?? responses['*'];
        if (request.kind === 'elicitation' && answer !== undefined)
            return answer;
        const asked = typeof request.params?.message === 'string' ? `: ${request.params.message}` : '';
        this.unanswered ??= new errors/* JobError */.CR('INPUT_REQUIRED', `Task ${context.taskId ?? ''} asks for input (${request.kind}${context.inputId ? ` '${context.inputId}'` : ''})${asked.replace(/[.:]*$/, '')}. Answer it with the input-responses input of wait, or cancel the job`, { input: 'input-responses', retryable: false });
        this.inputStop.abort(this.unanswered);
        // Leave the request unanswered (a later wait may answer it): upstream limitation, ext-tasks 0.2.2 answers an
        // elicitation with {action: "cancel"} when the handler throws, unless the input lifetime has ended — so wait
        // for the end of the watch, which ends that lifetime, before giving up.
        if (context.signal !== undefined && !context.signal.aborted) {
            await new Promise((resolve) => context.signal.addEventListener('abort', resolve, { once: true }));
        }
        throw this.unanswered;
    }
    async submit(call, signal) {
        const capabilities = (this.client.getServerCapabilities() ?? {});
        if (this.v2) {
            const extensions = capabilities.extensions;
            if (extensions?.[TASKS_EXTENSION] === undefined) {
                throw new errors/* JobError */.CR('TASKS_UNSUPPORTED', `The MCP server ${this.url} speaks ${V2_PROTOCOL} without the ${TASKS_EXTENSION} extension, so '${call.tool}' cannot run as a background job`, { input: 'server' });
            }
        }
        else {
            const taskRequests = capabilities.tasks?.requests;
            if (taskRequests?.tools?.call === undefined) {
                throw new errors/* JobError */.CR('TASKS_UNSUPPORTED', `The MCP server ${this.url} does not support tasks for tool calls (its capabilities have no tasks.requests.tools.call), so '${call.tool}' cannot run as a background job`, { input: 'server' });
            }
        }
        const tool = await this.findTool(call.tool, signal);
        // 2026-07-28 servers decide per call whether a tool call becomes a task; 2025-11-25 tools declare it.
        const support = tool.execution?.taskSupport ?? (this.v2 ? 'optional' : 'forbidden');
        if (support === 'forbidden') {
            throw new errors/* JobError */.CR('TASKS_UNSUPPORTED', `Tool '${call.tool}' on ${this.url} does not allow running as a task (execution.taskSupport is ${tool.execution?.taskSupport === undefined ? 'not set, which means forbidden' : 'forbidden'})`, { input: 'tool' });
        }
        const doing = `calling tool '${call.tool}'`;
        try {
            const execution = await this.tasks().callTool(call.tool, call.arguments, {
                declaration: (0,sdk_client_adapter/* toolDeclarationFromMcpTool */.Tz)(tool),
                // 2026-07-28 has no client TTL: the core says so when task-ttl was given.
                task: { preference: 'require', ...(call.ttlMs === undefined || this.v2 ? {} : { retentionMs: call.ttlMs }) },
                requestTimeoutMs: REQUEST_TIMEOUT_MS,
                ...(signal === undefined ? {} : { signal }),
            });
            if (execution.kind !== 'task') {
                await execution.close().catch(() => undefined);
                throw new errors/* JobError */.CR('PROTOCOL_ERROR', `The MCP server ${this.url} answered tool '${call.tool}' at once instead of creating a task`);
            }
            let reference;
            await execution.handoff((r) => {
                reference = r;
            });
            const taskId = execution.handle.taskId;
            const discover = this.client.getDiscoverResult();
            const remote = {
                generation: this.parts.generation,
                taskId,
                protocolVersion: this.v2 ? V2_PROTOCOL : (this.transport.protocolVersion ?? V1),
                serverCapabilities: capabilities,
                endpointId: reference?.endpointId ?? endpointIdFor(this.url),
                ...(this.v2 || this.transport.sessionId === undefined ? {} : { sessionId: this.transport.sessionId }),
                ...(this.v2 && discover !== undefined ? { discover: discover } : {}),
            };
            const task = await this.snapshot(remote, signal).catch(() => ({ taskId, status: 'working' }));
            return { remote, task };
        }
        catch (error) {
            throw toJobError(error, { url: this.url, doing });
        }
    }
    async findTool(name, signal) {
        const seen = [];
        let cursor;
        try {
            for (let page = 0; page < 100; page++) {
                const listing = await this.client.listTools(cursor === undefined ? {} : { cursor }, {
                    timeout: REQUEST_TIMEOUT_MS,
                    ...(signal === undefined ? {} : { signal }),
                });
                const tool = listing.tools.find((t) => t.name === name);
                if (tool !== undefined)
                    return tool;
                seen.push(...listing.tools.map((t) => t.name));
                cursor = listing.nextCursor;
                if (cursor === undefined)
                    break;
            }
        }
        catch (error) {
            throw toJobError(error, { url: this.url, doing: 'listing tools' });
        }
        const shown = seen.slice(0, 20).join(', ') + (seen.length > 20 ? `, … (${seen.length} in all)` : '');
        throw new errors/* JobError */.CR('TOOL_NOT_FOUND', `Input 'tool': the MCP server ${this.url} has no tool '${name}' (it has: ${shown || 'no tools'})`, {
            input: 'tool',
        });
    }
    async snapshot(remote, signal) {
        try {
            return toSnapshot(await this.tasks()
                .task(remote.taskId, { requestTimeoutMs: REQUEST_TIMEOUT_MS })
                .snapshot(signal));
        }
        catch (error) {
            throw toJobError(error, { ...this.about(remote), doing: `reading task ${remote.taskId}` });
        }
    }
    async watch(remote, options) {
        const doing = `following task ${remote.taskId}`;
        const mapping = { ...this.about(remote), doing };
        let execution;
        try {
            execution = await this.tasks().resumeTask(referenceOf(remote), {
                requestTimeoutMs: REQUEST_TIMEOUT_MS,
                signal: options.signal,
            });
        }
        catch (error) {
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
                    if (event.type === 'task')
                        await options.onStatus(toSnapshot(event.task));
                },
            });
            settling.catch(() => undefined);
            // The tasks client polls at the server's interval; on 2025-11-25 the blocking tasks/result answers the moment
            // the task ends. (2026-07-28 has no tasks/result: polling at the server's pollIntervalMs is the protocol.)
            const early = this.v2
                ? new Promise(() => undefined)
                : this.blockingResult(remote, stop).then((outcome) => outcome ?? new Promise(() => undefined));
            const first = await Promise.race([
                settling.then((settlement) => ({ settlement })),
                early.then((outcome) => ({ outcome })),
            ]);
            if ('outcome' in first)
                return first.outcome;
            const { outcome, lastTask } = first.settlement;
            const task = lastTask === undefined ? undefined : toSnapshot(lastTask);
            switch (outcome.status) {
                case 'completed':
                    return { status: 'completed', result: outcome.result, ...(task ? { task } : {}) };
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
                            message: (result === undefined ? undefined : resultTextOf(result)) ||
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
        }
        catch (error) {
            if (options.signal.aborted)
                throw options.signal.reason;
            if (this.unanswered !== undefined)
                throw this.unanswered;
            if (this.inputStop.signal.aborted)
                throw this.inputStop.signal.reason;
            throw toJobError(error, mapping);
        }
        finally {
            done.abort();
            await execution.detach().catch(() => undefined);
        }
    }
    /**
     * Blocks on `tasks/result` until the task ends and returns its outcome, or undefined when the call gives no
     * usable answer (a cancelled task has no result; an error here is left to the polling watch to classify).
     * The final status the polling watch has not seen yet is recorded from the outcome itself.
     */
    async blockingResult(remote, signal) {
        const result = await this.taskResult(remote.taskId, { timeout: MAX_TIMER_MS, signal });
        if (result === undefined)
            return undefined;
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
    async taskResult(taskId, options) {
        try {
            return (await this.client.request({ method: 'tasks/result', params: { taskId } }, schemas/* looseObject */._H3({ content: schemas/* array */.YOg(schemas/* unknown */.L5J()) }), options));
        }
        catch {
            return undefined;
        }
    }
    async cancel(remote, signal) {
        // Through the controller, not an execution: ext-tasks' execution.cancel() marks the task cancelled locally on
        // the server's acknowledgement, which on 2026-07-28 does not mean it was cancelled.
        const controller = this.tasks().task(remote.taskId, { requestTimeoutMs: REQUEST_TIMEOUT_MS });
        try {
            await controller.cancel(signal);
        }
        catch (error) {
            // 2025-11-25: cancelling a task that already ended is an invalid-params error; read it back to learn its end.
            if (this.v2 || rpcCode(error) !== -32602) {
                throw toJobError(error, { ...this.about(remote), doing: `cancelling task ${remote.taskId}` });
            }
        }
        let task = await this.snapshot(remote, signal);
        // 2026-07-28 cancellation is a request the server acts on in its own time: give it a moment to settle.
        const until = Date.now() + V2_CANCEL_SETTLE_MS;
        while (this.v2 &&
            task.status !== 'cancelled' &&
            task.status !== 'completed' &&
            task.status !== 'failed' &&
            Date.now() < until) {
            await new Promise((resolve) => setTimeout(resolve, Math.min(task.pollIntervalMs ?? 200, 200)));
            if (signal?.aborted)
                break;
            task = await this.snapshot(remote, signal);
        }
        return task;
    }
    async close() {
        // Not transport.terminateSession(): an HTTP DELETE would discard the session's tasks. And not session.close():
        // ext-tasks closes the executions it still owns, which cancels every task that has not ended — a wait that
        // gives up (cancel-on-timeout: false, input nobody answered) must leave the task as it is.
        await this.client.close().catch(() => undefined);
    }
}
function resultTextOf(result) {
    const content = result.content;
    if (!Array.isArray(content))
        return undefined;
    const text = content
        .map((block) => block !== null && typeof block === 'object' && !Array.isArray(block) && typeof block.text === 'string'
        ? block.text
        : '')
        .filter((t) => t !== '')
        .join('\n');
    return text === '' ? undefined : text;
}
function endpointIdFor(url) {
    return `mcp-jobs:${url}`;
}
function referenceOf(remote) {
    return {
        endpointId: remote.endpointId,
        generation: remote.generation === V2_PROTOCOL ? 'v2' : 'v1',
        taskId: remote.taskId,
        originalOperation: 'tools/call',
    };
}
function toSnapshot(view) {
    const status = core_status/* REMOTE_STATUSES */.GJ.includes(view.status)
        ? view.status
        : undefined;
    if (status === undefined) {
        throw new errors/* JobError */.CR('PROTOCOL_ERROR', `The MCP server reported task ${view.taskId} in an unknown status '${String(view.status)}'`);
    }
    return {
        taskId: view.taskId,
        status,
        ...(view.statusMessage === undefined ? {} : { statusMessage: view.statusMessage }),
        ttlMs: view.retentionMs,
        ...(view.suggestedPollIntervalMs === undefined ? {} : { pollIntervalMs: view.suggestedPollIntervalMs }),
    };
}
function raceAbort(promise, signal) {
    if (signal === undefined)
        return promise;
    if (signal.aborted)
        return Promise.reject(signal.reason);
    return new Promise((resolve, reject) => {
        const onAbort = () => reject(signal.reason);
        signal.addEventListener('abort', onAbort, { once: true });
        promise.then((v) => {
            signal.removeEventListener('abort', onAbort);
            resolve(v);
        }, (e) => {
            signal.removeEventListener('abort', onAbort);
            reject(e);
        });
    });
}


/***/ })

};
