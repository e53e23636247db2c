export const id = 705;
export const ids = [705];
export const modules = {

/***/ 59705:
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

// EXTERNAL MODULE: ./src/version.ts
var version = __webpack_require__(311);
;// CONCATENATED MODULE: ./src/mcp/task-client.ts
/**
 * The TaskClient port over the official MCP client (`@modelcontextprotocol/client`) and its tasks client
 * (`@modelcontextprotocol/ext-tasks`), for servers speaking protocol 2025-11-25 over Streamable HTTP.
 *
 * 2025-11-25 tasks live in the MCP session that created them, so submit keeps the session open (no HTTP DELETE) and
 * records its ID and the server's capabilities; wait and cancel rejoin that session with the saved ID.
 */








const GENERATION = '2025-11-25';
/** Bounds every single request; waiting for a task is not one request and is not bounded by it. */
const REQUEST_TIMEOUT_MS = 60_000;
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
class McpTaskClient {
    options;
    constructor(options = {}) {
        this.options = options;
    }
    async open(target, join, signal) {
        const url = new URL(target.url);
        const client = join === undefined
            ? new dist/* Client */.Kj({ ...version/* CLIENT_INFO */.J }, { capabilities: {} })
            : new RejoinedClient(join.serverCapabilities);
        const transport = new dist/* StreamableHTTPClientTransport */.jS(url, {
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
        }
        catch (error) {
            await client.close().catch(() => undefined);
            throw toJobError(error, { url: target.url, doing, ...(join ? { taskId: join.taskId } : {}) });
        }
        return new McpTaskConnection(target.url, client, transport, join);
    }
}
class McpTaskConnection {
    url;
    client;
    transport;
    joined;
    session;
    constructor(url, client, transport, joined) {
        this.url = url;
        this.client = client;
        this.transport = transport;
        this.joined = joined;
    }
    tasks() {
        this.session ??= (0,sdk_client_adapter/* createTaskSessionFromClient */.xH)(this.client, {
            endpointId: this.joined?.endpointId ?? endpointIdFor(this.url),
        });
        return this.session;
    }
    async submit(call, signal) {
        const capabilities = (this.client.getServerCapabilities() ?? {});
        const taskRequests = capabilities.tasks?.requests;
        if (taskRequests?.tools?.call === undefined) {
            throw new errors/* JobError */.CR('TASKS_UNSUPPORTED', `The MCP server ${this.url} does not support tasks for tool calls (its capabilities have no tasks.requests.tools.call), so '${call.tool}' cannot run as a background job`, { input: 'server' });
        }
        const tool = await this.findTool(call.tool, signal);
        const support = tool.execution?.taskSupport ?? 'forbidden';
        if (support === 'forbidden') {
            throw new errors/* JobError */.CR('TASKS_UNSUPPORTED', `Tool '${call.tool}' on ${this.url} does not allow running as a task (execution.taskSupport is ${tool.execution?.taskSupport === undefined ? 'not set, which means forbidden' : 'forbidden'})`, { input: 'tool' });
        }
        const doing = `calling tool '${call.tool}'`;
        try {
            const execution = await this.tasks().callTool(call.tool, call.arguments, {
                declaration: (0,sdk_client_adapter/* toolDeclarationFromMcpTool */.Tz)(tool),
                task: { preference: 'require', ...(call.ttlMs === undefined ? {} : { retentionMs: call.ttlMs }) },
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
            const remote = {
                generation: GENERATION,
                taskId,
                protocolVersion: this.transport.protocolVersion ?? GENERATION,
                serverCapabilities: (this.client.getServerCapabilities() ?? {}),
                endpointId: reference?.endpointId ?? endpointIdFor(this.url),
                ...(this.transport.sessionId === undefined ? {} : { sessionId: this.transport.sessionId }),
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
            throw toJobError(error, { url: this.url, doing: `reading task ${remote.taskId}`, taskId: remote.taskId });
        }
    }
    async watch(remote, options) {
        const doing = `following task ${remote.taskId}`;
        const mapping = { url: this.url, doing, taskId: remote.taskId };
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
                signal: options.signal,
                close: false,
                onEvent: async (event) => {
                    if (event.type === 'task')
                        await options.onStatus(toSnapshot(event.task));
                },
            });
            settling.catch(() => undefined);
            // The tasks client polls at the server's interval; the blocking tasks/result answers the moment the task ends.
            const early = this.blockingResult(remote, stop).then((outcome) => outcome ?? new Promise(() => undefined));
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
        }
        catch (error) {
            if (options.signal.aborted)
                throw options.signal.reason;
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
        let result;
        try {
            result = (await this.client.request({ method: 'tasks/result', params: { taskId: remote.taskId } }, schemas/* looseObject */._H3({ content: schemas/* array */.YOg(schemas/* unknown */.L5J()) }), { timeout: MAX_TIMER_MS, signal }));
        }
        catch {
            return undefined;
        }
        // In this generation a stored result means the task ended: failed when the tool reported isError, else completed.
        if (result.isError === true) {
            return { status: 'failed', error: { message: resultTextOf(result) ?? 'The tool reported an error' }, result };
        }
        return { status: 'completed', result };
    }
    /** `tasks/result` of a failed task: the tool's isError result, or nothing when the failure was a protocol error. */
    async storedResult(taskId) {
        try {
            const result = await this.client.request({ method: 'tasks/result', params: { taskId } }, schemas/* looseObject */._H3({ content: schemas/* array */.YOg(schemas/* unknown */.L5J()) }), { timeout: 10_000 });
            return result;
        }
        catch {
            return undefined;
        }
    }
    async cancel(remote, signal) {
        const controller = this.tasks().task(remote.taskId, { requestTimeoutMs: REQUEST_TIMEOUT_MS });
        try {
            await controller.cancel(signal);
        }
        catch (error) {
            // Cancelling a task that already ended is an invalid-params error: read the task back to learn its end.
            if (rpcCode(error) !== -32602) {
                throw toJobError(error, { url: this.url, doing: `cancelling task ${remote.taskId}`, taskId: remote.taskId });
            }
        }
        return this.snapshot(remote, signal);
    }
    async close() {
        // Not transport.terminateSession(): an HTTP DELETE would discard the session's tasks.
        await this.session?.close().catch(() => undefined);
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
        generation: 'v1',
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
