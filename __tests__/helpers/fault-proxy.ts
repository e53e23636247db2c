/**
 * An HTTP-aware, fault-injecting reverse proxy on 127.0.0.1 in front of an MCP Streamable HTTP server
 * (`http://127.0.0.1:<targetPort>`), for tests that prove a client survives network faults.
 *
 * In `pass` mode every request is forwarded as it came (method, path, query, headers such as Mcp-Session-Id,
 * MCP-Protocol-Version, Mcp-Method, Mcp-Name, Last-Event-ID, Accept, Authorization; body) and the response comes back
 * as the server wrote it, chunk by chunk, so long-lived SSE responses (the blocking `tasks/result`, the session's GET
 * stream, `subscriptions/listen`) stream through. Only hop-by-hop headers (Connection, Keep-Alive, Transfer-Encoding,
 * TE, Trailer, Upgrade, Proxy-*) are not copied, and a request's Content-Length is recomputed (the body is buffered).
 * When the client goes away, the request to the server is aborted, so the server sees the close as it would directly.
 * If the server cannot be reached, the proxy answers 502 (text/html) like a gateway would (outcome 'upstream-error').
 *
 * Each request body is buffered and parsed to log its JSON-RPC method / id / params.taskId / params.name, and the
 * JSON-RPC messages of each response (JSON or SSE) are summarised in `responseMessages` as they stream by.
 *
 * API
 *   startFaultProxy(targetPort, path = '/mcp') → FaultProxy
 *   proxy.url / proxy.port            `http://127.0.0.1:<port><path>`; the port never changes (also across `refuse`)
 *   proxy.setMode(mode, { match?, requests? })
 *       Replaces the current rule. `match` (default: every request) is called with the request's log entry (body
 *       already read); `requests: N` applies the fault to the next N matching requests only, then the proxy is back
 *       in `pass`. Any setMode call first destroys the requests held by `hang` (outcome 'released').
 *       Resolves once the proxy is in the new state (for `refuse`: no longer listening; after it: listening again).
 *   proxy.cut(match?)                 destroys every open exchange (matching) now, e.g. an SSE stream; returns how many
 *   proxy.log()                       snapshot of every request seen, in arrival order (`seq` 1, 2, ...)
 *   proxy.waitFor(match, timeoutMs = 10000)
 *       resolves with the first entry that matches, now or later; `match` is evaluated again whenever an entry
 *       changes (status known, a response message seen, ended), so `r => r.status === 200` or
 *       `r => r.responseMessages.some(m => m.method === 'elicitation/create')` work. Use `r.seq > mark` with
 *       `const mark = proxy.log().length` to wait only for requests after a point.
 *   proxy.close()                     stops listening, destroys every socket (client and server side), rejects waiters
 *
 * Modes (FaultMode)
 *   pass        forward faithfully
 *   refuse      stop listening (new connections: ECONNREFUSED on the same port) and cut every open socket. Takes no
 *               `match` / `requests` (nothing is read while refusing). The next setMode listens on the same port again.
 *   reset       read the request, then reset the connection (TCP RST: ECONNRESET / "socket hang up" / "fetch failed")
 *   hang        read the request and never answer; the request stays pending until the next setMode() or close(),
 *               which destroy it (also when `requests: N` is used: the rule ends, the hung requests stay hung)
 *   status      answer `status` (e.g. 502, 503, 429, 500) with a small text/html body, and `Retry-After` if given
 *   garbage     answer 200 with content-type application/json and a body that is not JSON
 *   idle-cut    forward, but destroy any response still open `afterMs` after the request was read
 *               (drops SSE streams mid-way; responses that end sooner are untouched)
 * `reset`, `hang`, `status` and `garbage` take `forward: true`: the request is forwarded first and the server's
 * whole response is read and thrown away before the fault is applied — the server acted, the client never hears of
 * it (a lost reply). For a long-lived SSE response that means the fault comes when the server ends the stream.
 *
 * Without `forward`, a faulted request never reaches the server.
 *
 * Matchers: `matchRpc('tasks/result', ...)` (POSTs of those JSON-RPC methods), `matchHttp('GET')` (e.g. the session's
 * GET stream); any `(r: ProxiedRequest) => boolean` works, e.g. `r => r.taskId === id`.
 * Lifetime: the listening socket and the idle-cut timers are unref'd (an idle proxy never keeps the test process
 * alive); a pending waitFor keeps it alive until it resolves, times out, or close() rejects it. close() destroys every
 * client and server socket.
 */
import http from 'node:http';
import type net from 'node:net';

export type FaultMode =
  | { kind: 'pass' }
  | { kind: 'refuse' }
  | { kind: 'reset'; forward?: boolean }
  | { kind: 'hang'; forward?: boolean }
  | { kind: 'status'; status: number; retryAfter?: string; forward?: boolean }
  | { kind: 'garbage'; forward?: boolean }
  | { kind: 'idle-cut'; afterMs: number };

export type FaultKind = FaultMode['kind'];

/** One JSON-RPC message seen in a response (or 'invalid' for a body/event that is not JSON-RPC). */
export interface RpcSummary {
  kind: 'request' | 'notification' | 'result' | 'error' | 'invalid';
  method?: string;
  id?: string | number | null;
  /** params.taskId, result.task.taskId, result.taskId or the related-task `_meta`, when present. */
  taskId?: string;
  /** result.task.status / result.status / params.status, when present. */
  taskStatus?: string;
  /** error.code of an error response. */
  errorCode?: number;
  /** SSE `id:` of the event that carried it. */
  eventId?: string;
}

/**
 * How an exchange ended: 'answered' (the response was sent completely, passed through or faulted), 'reset' (reset
 * mode), 'released' (a hung request destroyed by setMode/close), 'cut' (idle-cut, cut(), or refuse), 'client-closed'
 * (the client went away first), 'upstream-error' (the server could not be reached or broke off), 'closed' (close()).
 */
export type ExchangeOutcome = 'answered' | 'reset' | 'released' | 'cut' | 'client-closed' | 'upstream-error' | 'closed';

export interface ProxiedRequest {
  /** 1, 2, ... in arrival order (arrival = request body fully read). */
  seq: number;
  httpMethod: string;
  /** Path and query as requested. */
  path: string;
  /** Request headers, names lower-cased; values of authorization / cookie headers are replaced by '***'. */
  headers: Record<string, string>;
  sessionId?: string;
  protocolVersion?: string;
  lastEventId?: string;
  /** What the POST body is: a JSON-RPC request, notification, a response (e.g. an elicitation answer), or a batch. */
  rpcKind?: 'request' | 'notification' | 'response' | 'batch' | 'invalid';
  rpcMethod?: string;
  rpcId?: string | number | null;
  /** params.taskId (tasks/get, tasks/result, tasks/cancel, tasks/update). */
  taskId?: string;
  /** params.name (tools/call, prompts/get). */
  name?: string;
  /** The parsed JSON body (undefined when there was none or it was not JSON). */
  body?: unknown;
  /** The mode applied to this request ('pass' when no rule matched). */
  mode: FaultKind;
  /** Date.now() at arrival. For ordering only; tests must not assert durations. */
  at: number;
  /** Status the client got (for `forward` faults: the fault's status; `upstreamStatus` has the server's). */
  status?: number;
  upstreamStatus?: number;
  /** Content-Type of the response the client got. */
  contentType?: string;
  /** JSON-RPC messages of the response the client got, in order (live: grows while an SSE stream is open). */
  responseMessages: RpcSummary[];
  /** Set when the exchange is over. */
  endedAt?: number;
  outcome?: ExchangeOutcome;
  /** For 'upstream-error': the error code (ECONNREFUSED, ...). */
  error?: string;
}

export interface SetModeOptions {
  /** Which requests get the fault (default: all). Called with the request's log entry. */
  match?: (request: ProxiedRequest) => boolean;
  /** Apply the fault to the next N matching requests only, then go back to pass. */
  requests?: number;
}

export interface FaultProxy {
  readonly url: string;
  readonly port: number;
  /** The current rule's mode ('pass' once a `requests: N` rule is used up). */
  readonly mode: FaultMode;
  setMode(mode: FaultMode, opts?: SetModeOptions): Promise<void>;
  cut(match?: (request: ProxiedRequest) => boolean): number;
  log(): ProxiedRequest[];
  waitFor(match: (request: ProxiedRequest) => boolean, timeoutMs?: number): Promise<ProxiedRequest>;
  close(): Promise<void>;
}

const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'transfer-encoding',
  'te',
  'trailer',
  'upgrade',
]);
const REDACTED_HEADERS = new Set(['authorization', 'cookie', 'set-cookie', 'proxy-authorization']);
const GARBAGE_BODY = '{"jsonrpc": "2.0", "result": {"task": <html>this is not JSON';
/** Response bytes kept for summarising one JSON body or one SSE event; bigger ones are skipped. */
const MAX_PARSE_BYTES = 1024 * 1024;
const RELATED_TASK_META = 'io.modelcontextprotocol/related-task';
const KINDS: ReadonlySet<string> = new Set(['pass', 'refuse', 'reset', 'hang', 'status', 'garbage', 'idle-cut']);

interface Rule {
  mode: FaultMode;
  match?: (request: ProxiedRequest) => boolean;
  remaining?: number;
}

interface Exchange {
  entry: ProxiedRequest;
  req: http.IncomingMessage;
  res: http.ServerResponse;
  upstream?: http.ClientRequest;
  timer?: NodeJS.Timeout;
  hung: boolean;
  done: boolean;
}

interface Waiter {
  match: (request: ProxiedRequest) => boolean;
  resolve: (request: ProxiedRequest) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
}

/** Matches POSTs whose JSON-RPC method is one of `methods`. */
export function matchRpc(...methods: string[]): (request: ProxiedRequest) => boolean {
  return (request) => request.rpcMethod !== undefined && methods.includes(request.rpcMethod);
}

/** Matches requests with this HTTP method (GET: the session's standalone SSE stream; DELETE: session end). */
export function matchHttp(method: string): (request: ProxiedRequest) => boolean {
  return (request) => request.httpMethod === method.toUpperCase();
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  value !== null && typeof value === 'object' && !Array.isArray(value);

function snapshot(entry: ProxiedRequest): ProxiedRequest {
  return { ...entry, headers: { ...entry.headers }, responseMessages: entry.responseMessages.map((m) => ({ ...m })) };
}

/** Summary of one JSON-RPC message (what the log needs for matching, nothing more). */
export function summarizeRpc(message: unknown, eventId?: string): RpcSummary {
  const withEvent = (summary: RpcSummary): RpcSummary => (eventId === undefined ? summary : { ...summary, eventId });
  if (!isObject(message) || message.jsonrpc !== '2.0') return withEvent({ kind: 'invalid' });
  const params = isObject(message.params) ? message.params : undefined;
  const result = isObject(message.result) ? message.result : undefined;
  const task = result && isObject(result.task) ? result.task : undefined;
  const meta = (result && isObject(result._meta) && result._meta) || (params && isObject(params._meta) && params._meta);
  const related = meta && isObject(meta[RELATED_TASK_META]) ? meta[RELATED_TASK_META] : undefined;
  const taskId = [params?.taskId, task?.taskId, result?.taskId, related?.taskId].find((v) => typeof v === 'string');
  const taskStatus = [task?.status, result?.status, params?.status].find((v) => typeof v === 'string');
  const id = message.id as string | number | null | undefined;
  const summary: RpcSummary =
    typeof message.method === 'string'
      ? { kind: 'id' in message ? 'request' : 'notification', method: message.method }
      : 'error' in message
        ? { kind: 'error', ...(isObject(message.error) ? { errorCode: message.error.code as number } : {}) }
        : { kind: 'result' };
  if (id !== undefined) summary.id = id;
  if (taskId !== undefined) summary.taskId = taskId as string;
  if (taskStatus !== undefined) summary.taskStatus = taskStatus as string;
  return withEvent(summary);
}

function describeRequestBody(entry: ProxiedRequest, raw: Buffer): void {
  if (raw.length === 0) return;
  let body: unknown;
  try {
    body = JSON.parse(raw.toString('utf8'));
  } catch {
    entry.rpcKind = 'invalid';
    return;
  }
  entry.body = body;
  const first = Array.isArray(body) ? body[0] : body;
  if (Array.isArray(body)) entry.rpcKind = 'batch';
  if (!isObject(first)) {
    entry.rpcKind ??= 'invalid';
    return;
  }
  if (typeof first.method === 'string') {
    entry.rpcKind ??= 'id' in first ? 'request' : 'notification';
    entry.rpcMethod = first.method;
  } else {
    entry.rpcKind ??= 'result' in first || 'error' in first ? 'response' : 'invalid';
  }
  if ('id' in first) entry.rpcId = first.id as string | number | null;
  const params = isObject(first.params) ? first.params : undefined;
  if (typeof params?.taskId === 'string') entry.taskId = params.taskId;
  if (typeof params?.name === 'string') entry.name = params.name;
}

/** Raw header list without hop-by-hop headers (and without `drop`). */
function copyHeaders(raw: string[], drop: ReadonlySet<string> = new Set()): string[] {
  const out: string[] = [];
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i].toLowerCase();
    if (HOP_BY_HOP.has(name) || drop.has(name)) continue;
    out.push(raw[i], raw[i + 1]);
  }
  return out;
}

/** Incremental summariser of a response body: SSE events as they complete, a JSON body at the end. */
class ResponseObserver {
  private buffer = '';
  private jsonChunks: Buffer[] = [];
  private jsonBytes = 0;
  private overflow = false;
  private readonly sse: boolean;
  private readonly json: boolean;

  constructor(
    contentType: string | undefined,
    private readonly onMessage: (summary: RpcSummary) => void,
  ) {
    const type = (contentType ?? '').split(';')[0].trim().toLowerCase();
    this.sse = type === 'text/event-stream';
    this.json = type === 'application/json';
  }

  data(chunk: Buffer): void {
    if (this.overflow) return;
    if (this.json) {
      this.jsonBytes += chunk.length;
      if (this.jsonBytes > MAX_PARSE_BYTES) {
        this.overflow = true;
        this.jsonChunks = [];
        return;
      }
      this.jsonChunks.push(chunk);
      return;
    }
    if (!this.sse) return;
    this.buffer += chunk.toString('utf8');
    for (;;) {
      const boundary = /\r?\n\r?\n/.exec(this.buffer);
      if (!boundary) break;
      const event = this.buffer.slice(0, boundary.index);
      this.buffer = this.buffer.slice(boundary.index + boundary[0].length);
      this.event(event);
    }
    if (this.buffer.length > MAX_PARSE_BYTES) {
      // One huge event (e.g. a big result): stop summarising this stream rather than hold it in memory.
      this.overflow = true;
      this.buffer = '';
    }
  }

  end(): void {
    if (!this.json || this.overflow || this.jsonChunks.length === 0) return;
    const text = Buffer.concat(this.jsonChunks).toString('utf8');
    this.jsonChunks = [];
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      this.onMessage({ kind: 'invalid' });
      return;
    }
    for (const message of Array.isArray(body) ? body : [body]) this.onMessage(summarizeRpc(message));
  }

  private event(text: string): void {
    const data: string[] = [];
    let eventId: string | undefined;
    for (const line of text.split(/\r?\n/)) {
      if (line.startsWith(':')) continue;
      const colon = line.indexOf(':');
      const field = colon < 0 ? line : line.slice(0, colon);
      const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
      if (field === 'data') data.push(value);
      else if (field === 'id') eventId = value;
    }
    if (data.length === 0) return; // keep-alive comment, or an event without data (e.g. a priming event)
    const payload = data.join('\n');
    if (payload === '') return;
    try {
      this.onMessage(summarizeRpc(JSON.parse(payload), eventId));
    } catch {
      this.onMessage({ kind: 'invalid', ...(eventId === undefined ? {} : { eventId }) });
    }
  }
}

/** Two turns of the event loop (each with an I/O poll). */
async function settleIo(): Promise<void> {
  for (let i = 0; i < 2; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

function statusBody(status: number): string {
  const reason = http.STATUS_CODES[status] ?? 'Error';
  return `<html><head><title>${status} ${reason}</title></head><body><h1>${status} ${reason}</h1><p>fault-proxy</p></body></html>\n`;
}

function validateMode(mode: FaultMode, opts: SetModeOptions): void {
  if (!isObject(mode) || typeof mode.kind !== 'string' || !KINDS.has(mode.kind)) {
    throw new Error(`fault-proxy: unknown mode ${JSON.stringify(mode)} (expected kind ${[...KINDS].join(', ')})`);
  }
  if (mode.kind === 'status') {
    if (!Number.isInteger(mode.status) || mode.status < 200 || mode.status > 599) {
      throw new Error(`fault-proxy: status mode needs an HTTP status 200-599, got ${JSON.stringify(mode.status)}`);
    }
  }
  if (mode.kind === 'idle-cut' && !(Number.isFinite(mode.afterMs) && mode.afterMs >= 0)) {
    throw new Error(`fault-proxy: idle-cut needs afterMs >= 0, got ${JSON.stringify(mode.afterMs)}`);
  }
  if (opts.requests !== undefined && !(Number.isInteger(opts.requests) && opts.requests > 0)) {
    throw new Error(`fault-proxy: requests must be a positive integer, got ${JSON.stringify(opts.requests)}`);
  }
  if (mode.kind === 'refuse' && (opts.match !== undefined || opts.requests !== undefined)) {
    throw new Error('fault-proxy: refuse takes no match / requests (a proxy that does not listen reads nothing)');
  }
}

export async function startFaultProxy(targetPort: number, path = '/mcp'): Promise<FaultProxy> {
  if (!Number.isInteger(targetPort) || targetPort <= 0 || targetPort > 65535) {
    throw new Error(`fault-proxy: target port must be 1-65535, got ${JSON.stringify(targetPort)}`);
  }
  const agent = new http.Agent({ keepAlive: false });
  const sockets = new Set<net.Socket>();
  const exchanges = new Set<Exchange>();
  const entries: ProxiedRequest[] = [];
  const waiters = new Set<Waiter>();
  let rule: Rule = { mode: { kind: 'pass' } };
  let listening = false;
  let closed = false;
  let port = 0;
  let chain: Promise<void> = Promise.resolve();

  const notify = (entry: ProxiedRequest) => {
    if (waiters.size === 0) return;
    const view = snapshot(entry);
    for (const waiter of Array.from(waiters)) {
      let hit: boolean;
      try {
        hit = waiter.match(view);
      } catch (error) {
        waiters.delete(waiter);
        clearTimeout(waiter.timer);
        waiter.reject(error as Error);
        continue;
      }
      if (hit) {
        waiters.delete(waiter);
        clearTimeout(waiter.timer);
        waiter.resolve(snapshot(entry));
      }
    }
  };

  const finish = (ex: Exchange, outcome: ExchangeOutcome, error?: string) => {
    if (ex.done) return;
    ex.done = true;
    ex.hung = false;
    if (ex.timer) clearTimeout(ex.timer);
    exchanges.delete(ex);
    ex.entry.outcome = outcome;
    ex.entry.endedAt = Date.now();
    if (error !== undefined) ex.entry.error = error;
    notify(ex.entry);
  };

  /** Ends an exchange by destroying both sides (client socket with RST when `reset`). */
  const destroy = (ex: Exchange, outcome: ExchangeOutcome, reset = false) => {
    finish(ex, outcome);
    ex.upstream?.destroy();
    const socket = ex.req.socket;
    if (reset && typeof socket.resetAndDestroy === 'function' && !socket.destroyed) socket.resetAndDestroy();
    else socket.destroy();
  };

  const answer = (ex: Exchange, status: number, headers: Record<string, string>, body: string) => {
    if (ex.done || ex.res.destroyed) return;
    ex.entry.status = status;
    ex.entry.contentType = headers['Content-Type'];
    ex.res.writeHead(status, { ...headers, 'Content-Length': String(Buffer.byteLength(body)) });
    ex.res.end(body);
    notify(ex.entry);
  };

  const applyFault = (ex: Exchange, mode: FaultMode) => {
    if (ex.done) return;
    switch (mode.kind) {
      case 'reset':
        destroy(ex, 'reset', true);
        return;
      case 'hang':
        ex.hung = true;
        return;
      case 'status': {
        const headers: Record<string, string> = { 'Content-Type': 'text/html; charset=utf-8' };
        if (mode.retryAfter !== undefined) headers['Retry-After'] = mode.retryAfter;
        answer(ex, mode.status, headers, statusBody(mode.status));
        return;
      }
      case 'garbage':
        answer(ex, 200, { 'Content-Type': 'application/json' }, GARBAGE_BODY);
        return;
      default:
        throw new Error(`fault-proxy: ${mode.kind} is not a response fault`);
    }
  };

  /**
   * Forwards the request. With `swallow`, the server's response is read to its end and dropped, then `swallow()`
   * applies the fault; otherwise the response streams back to the client.
   */
  const forward = (ex: Exchange, body: Buffer, swallow?: () => void) => {
    const { req, res, entry } = ex;
    const headers = copyHeaders(req.rawHeaders, new Set(['content-length']));
    if (body.length > 0 || req.headers['content-length'] !== undefined)
      headers.push('Content-Length', String(body.length));
    const upstream = http.request({
      host: '127.0.0.1',
      port: targetPort,
      method: req.method,
      path: req.url,
      headers,
      agent,
    });
    ex.upstream = upstream;
    upstream.on('response', (ures) => {
      entry.upstreamStatus = ures.statusCode;
      if (ex.done) {
        ures.destroy();
        return;
      }
      if (swallow) {
        ures.resume();
        ures.on('end', swallow);
        ures.on('close', () => {
          if (!ures.complete) destroy(ex, 'upstream-error');
        });
        notify(entry);
        return;
      }
      const contentType = ures.headers['content-type'];
      entry.status = ures.statusCode;
      entry.contentType = contentType;
      const observer = new ResponseObserver(contentType, (summary) => {
        entry.responseMessages.push(summary);
        notify(entry);
      });
      res.writeHead(ures.statusCode ?? 502, ures.statusMessage, copyHeaders(ures.rawHeaders));
      // SSE: the client must see the headers (and each event) at once, not when the first chunk happens to come.
      res.flushHeaders();
      notify(entry);
      ures.on('data', (chunk: Buffer) => observer.data(chunk));
      ures.on('end', () => observer.end());
      ures.on('close', () => {
        if (!ures.complete && !ex.done) destroy(ex, 'upstream-error');
      });
      ures.pipe(res);
    });
    upstream.on('error', (error: NodeJS.ErrnoException) => {
      if (ex.done) return;
      if (!res.headersSent && !swallow) {
        const code = error.code ?? error.message;
        entry.error = code;
        answer(ex, 502, { 'Content-Type': 'text/html; charset=utf-8' }, statusBody(502));
        // `answer` ends the response; 'finish' records 'answered': say why instead.
        finish(ex, 'upstream-error', code);
        return;
      }
      destroy(ex, 'upstream-error');
    });
    upstream.end(body);
  };

  const onRequest = (req: http.IncomingMessage, res: http.ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('error', () => {});
    req.on('end', () => {
      if (closed || req.socket.destroyed) return;
      const raw = Buffer.concat(chunks);
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(req.headers)) {
        if (value === undefined) continue;
        headers[name] = REDACTED_HEADERS.has(name) ? '***' : Array.isArray(value) ? value.join(', ') : value;
      }
      const entry: ProxiedRequest = {
        seq: entries.length + 1,
        httpMethod: req.method ?? 'GET',
        path: req.url ?? '/',
        headers,
        mode: 'pass',
        at: Date.now(),
        responseMessages: [],
      };
      if (headers['mcp-session-id'] !== undefined) entry.sessionId = headers['mcp-session-id'];
      if (headers['mcp-protocol-version'] !== undefined) entry.protocolVersion = headers['mcp-protocol-version'];
      if (headers['last-event-id'] !== undefined) entry.lastEventId = headers['last-event-id'];
      describeRequestBody(entry, raw);

      let mode: FaultMode = { kind: 'pass' };
      const current = rule;
      if (current.mode.kind !== 'pass' && current.mode.kind !== 'refuse') {
        let hit: boolean;
        try {
          hit = current.match ? current.match(snapshot(entry)) : true;
        } catch {
          hit = false;
        }
        if (hit) {
          mode = current.mode;
          if (current.remaining !== undefined && --current.remaining <= 0 && rule === current) {
            rule = { mode: { kind: 'pass' } };
          }
        }
      }
      entry.mode = mode.kind;
      entries.push(entry);

      const ex: Exchange = { entry, req, res, hung: false, done: false };
      exchanges.add(ex);
      res.on('finish', () => finish(ex, 'answered'));
      res.on('close', () => {
        if (!ex.done) {
          ex.upstream?.destroy();
          finish(ex, 'client-closed');
        }
      });
      notify(entry);

      switch (mode.kind) {
        case 'pass':
          forward(ex, raw);
          return;
        case 'idle-cut':
          ex.timer = setTimeout(() => destroy(ex, 'cut'), mode.afterMs);
          ex.timer.unref();
          forward(ex, raw);
          return;
        default:
          if ('forward' in mode && mode.forward) forward(ex, raw, () => applyFault(ex, mode));
          else applyFault(ex, mode);
      }
    });
  };

  const server = http.createServer(onRequest);
  server.on('connection', (socket) => {
    if (closed || !listening) {
      socket.destroy();
      return;
    }
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
  });
  server.on('clientError', (_error, socket) => socket.destroy());

  const listen = () =>
    new Promise<void>((resolve, reject) => {
      const onError = (error: Error) =>
        reject(new Error(`fault-proxy: cannot listen on 127.0.0.1:${port}: ${error.message}`));
      server.once('error', onError);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', onError);
        port = (server.address() as net.AddressInfo).port;
        listening = true;
        server.unref();
        resolve();
      });
    });

  const cutEverything = (outcome: ExchangeOutcome) => {
    for (const ex of Array.from(exchanges)) destroy(ex, ex.hung ? 'released' : outcome);
    for (const socket of Array.from(sockets)) socket.destroy();
  };

  const stopListening = async () => {
    listening = false;
    cutEverything('cut');
    if (server.listening) await new Promise<void>((resolve) => server.close(() => resolve()));
    // A client in this process sees its pooled connections close at its next I/O poll: let that happen before the
    // caller's next request, so that request is refused rather than sent on a dead keep-alive socket.
    await settleIo();
  };

  const releaseHung = () => {
    for (const ex of Array.from(exchanges)) if (ex.hung) destroy(ex, 'released', true);
  };

  await listen();

  const proxy: FaultProxy = {
    get port() {
      return port;
    },
    get url() {
      return `http://127.0.0.1:${port}${path}`;
    },
    get mode() {
      return rule.mode;
    },
    setMode(mode, opts = {}) {
      const run = async () => {
        if (closed) throw new Error('fault-proxy: setMode after close()');
        validateMode(mode, opts);
        releaseHung();
        if (mode.kind === 'refuse') {
          rule = { mode };
          if (listening) await stopListening();
          return;
        }
        rule = { mode, match: opts.match, remaining: opts.requests };
        if (!listening) await listen();
      };
      const next = chain.then(run, run);
      chain = next.catch(() => {});
      return next;
    },
    cut(match) {
      let count = 0;
      for (const ex of Array.from(exchanges)) {
        if (ex.done || (match && !match(snapshot(ex.entry)))) continue;
        destroy(ex, ex.hung ? 'released' : 'cut');
        count++;
      }
      return count;
    },
    log() {
      return entries.map(snapshot);
    },
    waitFor(match, timeoutMs = 10_000) {
      for (const entry of entries) {
        const view = snapshot(entry);
        if (match(view)) return Promise.resolve(view);
      }
      if (closed) return Promise.reject(new Error('fault-proxy: waitFor after close()'));
      return new Promise<ProxiedRequest>((resolve, reject) => {
        const waiter: Waiter = {
          match,
          resolve,
          reject,
          timer: setTimeout(() => {
            waiters.delete(waiter);
            const seen = entries
              .slice(-20)
              .map(
                (e) =>
                  `  #${e.seq} ${e.httpMethod} ${e.rpcMethod ?? e.rpcKind ?? '-'} mode=${e.mode} status=${e.status ?? '-'} outcome=${e.outcome ?? 'open'}`,
              )
              .join('\n');
            reject(
              new Error(`fault-proxy: no request matching ${match.toString()} within ${timeoutMs} ms; seen:\n${seen}`),
            );
          }, timeoutMs),
        };
        waiters.add(waiter);
      });
    },
    async close() {
      if (closed) return;
      closed = true;
      await chain;
      listening = false;
      cutEverything('closed');
      await new Promise<void>((resolve) => (server.listening ? server.close(() => resolve()) : resolve()));
      agent.destroy();
      for (const waiter of Array.from(waiters)) {
        clearTimeout(waiter.timer);
        waiter.reject(new Error('fault-proxy: closed'));
      }
      waiters.clear();
    },
  };
  return proxy;
}
