/**
 * Raw MCP Streamable HTTP over fetch, for tests that need to see (and break) the wire: no SDK in between.
 *
 * - `V1Session` (protocol 2025-11-25, sessions): `initialize()`, `request()` / `notify()` / `respond()` (POST; the
 *   reply is read whole, JSON or SSE), `openGetStream()` (the session's standalone SSE stream, read incrementally),
 *   `terminate()` (DELETE).
 * - `v2Request()` (protocol 2026-07-28 + tasks extension, stateless): one POST with the `_meta` envelope and the
 *   MCP-Protocol-Version / Mcp-Method / Mcp-Name headers.
 * Bodies are parsed with this realm's JSON.parse (Response.json() objects come from another realm under Jest).
 */

export const V1_PROTOCOL = '2025-11-25';
export const V2_PROTOCOL = '2026-07-28';
export const TASKS_EXTENSION = 'io.modelcontextprotocol/tasks';

export interface WireReply {
  status: number;
  headers: Headers;
  contentType: string;
  /** Every JSON-RPC message of the reply (one for a JSON body; each `data:` event of an SSE body). */
  messages: any[];
  /** The message answering the request (same id), if any. */
  response?: any;
  /** The raw body text. */
  text: string;
}

/** Splits SSE text into the `data:` payload (and `id:`) of each event. */
export function parseSse(text: string): Array<{ data: string; id?: string }> {
  const events: Array<{ data: string; id?: string }> = [];
  for (const block of text.split(/\r?\n\r?\n/)) {
    const data: string[] = [];
    let id: string | undefined;
    for (const line of block.split(/\r?\n/)) {
      if (line.startsWith(':')) continue;
      const colon = line.indexOf(':');
      const field = colon < 0 ? line : line.slice(0, colon);
      const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
      if (field === 'data') data.push(value);
      else if (field === 'id') id = value;
    }
    if (data.length > 0 && data.join('\n') !== '') events.push({ data: data.join('\n'), ...(id ? { id } : {}) });
  }
  return events;
}

async function readReply(response: Response, id?: string | number): Promise<WireReply> {
  const text = await response.text();
  const contentType = response.headers.get('content-type') ?? '';
  let messages: any[] = [];
  if (contentType.startsWith('text/event-stream')) {
    messages = parseSse(text).map((event) => JSON.parse(event.data));
  } else if (text.trim() !== '') {
    try {
      const body = JSON.parse(text);
      messages = Array.isArray(body) ? body : [body];
    } catch {
      messages = [];
    }
  }
  const reply = messages.find((m) => m && m.id === id && ('result' in m || 'error' in m));
  return { status: response.status, headers: response.headers, contentType, messages, response: reply, text };
}

/** An open SSE stream read incrementally. */
export class SseStream {
  readonly messages: any[] = [];
  readonly eventIds: string[] = [];
  /** Resolves when the stream ended: `error` is set when it broke off (cut, reset) rather than ended cleanly. */
  readonly ended: Promise<{ error?: unknown }>;
  private wakers = new Set<() => void>();
  private done = false;

  constructor(
    readonly response: Response,
    private readonly controller: AbortController,
  ) {
    this.ended = this.pump();
  }

  get status(): number {
    return this.response.status;
  }

  get isOpen(): boolean {
    return !this.done;
  }

  private async pump(): Promise<{ error?: unknown }> {
    const body = this.response.body;
    if (!body) {
      this.finish();
      return {};
    }
    const reader = body.getReader();
    const decoder = new TextDecoder();
    let buffer = '';
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += decoder.decode(value, { stream: true });
        for (;;) {
          const boundary = /\r?\n\r?\n/.exec(buffer);
          if (!boundary) break;
          const block = buffer.slice(0, boundary.index + boundary[0].length);
          buffer = buffer.slice(boundary.index + boundary[0].length);
          for (const event of parseSse(block)) {
            if (event.id) this.eventIds.push(event.id);
            try {
              this.messages.push(JSON.parse(event.data));
            } catch {
              this.messages.push({ unparsable: event.data });
            }
          }
          this.wake();
        }
      }
      this.finish();
      return {};
    } catch (error) {
      this.finish();
      return { error };
    }
  }

  private finish(): void {
    this.done = true;
    this.wake();
  }

  private wake(): void {
    for (const wake of Array.from(this.wakers)) wake();
  }

  /** Resolves with the first message matching `match` (already received or future); rejects if the stream ends. */
  next(match: (message: any) => boolean, timeoutMs = 10_000): Promise<any> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const found = this.messages.find(match);
        if (found !== undefined) {
          cleanup();
          resolve(found);
        } else if (this.done) {
          cleanup();
          reject(new Error(`SSE stream ended without a matching message; got ${JSON.stringify(this.messages)}`));
        }
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`no matching SSE message within ${timeoutMs} ms; got ${JSON.stringify(this.messages)}`));
      }, timeoutMs);
      const cleanup = () => {
        clearTimeout(timer);
        this.wakers.delete(check);
      };
      this.wakers.add(check);
      check();
    });
  }

  /** Closes the stream from the client side. */
  async close(): Promise<void> {
    this.controller.abort();
    await this.ended;
  }
}

export interface InitializeOptions {
  /** Client capabilities (default: elicitation form). */
  capabilities?: Record<string, unknown>;
}

/** A 2025-11-25 session over raw HTTP. */
export class V1Session {
  sessionId?: string;
  private nextId = 1;

  constructor(readonly url: string) {}

  headers(extra: Record<string, string> = {}): Record<string, string> {
    return {
      'Content-Type': 'application/json',
      Accept: 'application/json, text/event-stream',
      ...(this.sessionId ? { 'Mcp-Session-Id': this.sessionId, 'MCP-Protocol-Version': V1_PROTOCOL } : {}),
      ...extra,
    };
  }

  /** initialize + notifications/initialized; returns the InitializeResult. */
  async initialize(opts: InitializeOptions = {}): Promise<any> {
    const id = this.nextId++;
    const response = await fetch(this.url, {
      method: 'POST',
      headers: this.headers(),
      body: JSON.stringify({
        jsonrpc: '2.0',
        id,
        method: 'initialize',
        params: {
          protocolVersion: V1_PROTOCOL,
          capabilities: opts.capabilities ?? { elicitation: { form: {} } },
          clientInfo: { name: 'mcp-jobs-wire-test', version: '0.0.0' },
        },
      }),
    });
    const reply = await readReply(response, id);
    if (reply.status !== 200 || !reply.response?.result) {
      throw new Error(`initialize answered HTTP ${reply.status}: ${reply.text.slice(0, 500)}`);
    }
    this.sessionId = response.headers.get('mcp-session-id') ?? undefined;
    if (!this.sessionId) throw new Error('initialize answered without Mcp-Session-Id');
    await this.notify('notifications/initialized');
    return reply.response.result;
  }

  /** POSTs a request and reads the whole reply (an SSE reply is read to its end). */
  async request(
    method: string,
    params: Record<string, unknown> = {},
    opts: { signal?: AbortSignal; headers?: Record<string, string> } = {},
  ): Promise<WireReply> {
    const id = this.nextId++;
    const response = await fetch(this.url, {
      method: 'POST',
      headers: this.headers(opts.headers),
      body: JSON.stringify({ jsonrpc: '2.0', id, method, params }),
      signal: opts.signal,
    });
    return readReply(response, id);
  }

  /** The result of a request; throws with the wire reply when it is not a success. */
  async call(method: string, params: Record<string, unknown> = {}): Promise<any> {
    const reply = await this.request(method, params);
    if (reply.status !== 200 || !reply.response || 'error' in reply.response) {
      throw new Error(`${method} answered HTTP ${reply.status}: ${reply.text.slice(0, 500)}`);
    }
    return reply.response.result;
  }

  async notify(method: string, params: Record<string, unknown> = {}): Promise<number> {
    const response = await fetch(this.url, {
      method: 'POST',
      headers: this.headers(),
      body: JSON.stringify({ jsonrpc: '2.0', method, params }),
    });
    await response.text();
    return response.status;
  }

  /** Answers a server request (e.g. elicitation/create) with `result`. */
  async respond(id: string | number, result: Record<string, unknown>): Promise<number> {
    const response = await fetch(this.url, {
      method: 'POST',
      headers: this.headers(),
      body: JSON.stringify({ jsonrpc: '2.0', id, result }),
    });
    await response.text();
    return response.status;
  }

  /** Opens the session's standalone GET SSE stream (resolves once the response headers are in). */
  async openGetStream(opts: { lastEventId?: string } = {}): Promise<SseStream> {
    const controller = new AbortController();
    const headers: Record<string, string> = { Accept: 'text/event-stream' };
    if (this.sessionId) {
      headers['Mcp-Session-Id'] = this.sessionId;
      headers['MCP-Protocol-Version'] = V1_PROTOCOL;
    }
    if (opts.lastEventId) headers['Last-Event-ID'] = opts.lastEventId;
    const response = await fetch(this.url, { method: 'GET', headers, signal: controller.signal });
    return new SseStream(response, controller);
  }

  /** POSTs a request and returns its reply as a stream (for long SSE replies such as tasks/result). */
  async stream(method: string, params: Record<string, unknown> = {}): Promise<{ id: number; stream: SseStream }> {
    const id = this.nextId++;
    const controller = new AbortController();
    const response = await fetch(this.url, {
      method: 'POST',
      headers: this.headers(),
      body: JSON.stringify({ jsonrpc: '2.0', id, method, params }),
      signal: controller.signal,
    });
    return { id, stream: new SseStream(response, controller) };
  }

  /** DELETE: ends the session; returns the HTTP status. */
  async terminate(): Promise<number> {
    const response = await fetch(this.url, { method: 'DELETE', headers: this.headers() });
    await response.text();
    return response.status;
  }
}

/** One 2026-07-28 request with the tasks extension opted in (unless `tasks: false`). */
export async function v2Request(
  url: string,
  method: string,
  params: Record<string, unknown> = {},
  opts: { tasks?: boolean; capabilities?: Record<string, unknown>; id?: number | string } = {},
): Promise<WireReply> {
  const capabilities: Record<string, unknown> = { ...opts.capabilities };
  if (opts.tasks !== false) capabilities.extensions = { [TASKS_EXTENSION]: {} };
  const id = opts.id ?? Math.floor(Math.random() * 1e9);
  const headers: Record<string, string> = {
    'Content-Type': 'application/json',
    Accept: 'application/json, text/event-stream',
    'MCP-Protocol-Version': V2_PROTOCOL,
    'Mcp-Method': method,
  };
  const nameField = (
    { 'tools/call': 'name', 'tasks/get': 'taskId', 'tasks/update': 'taskId', 'tasks/cancel': 'taskId' } as Record<
      string,
      string
    >
  )[method];
  if (nameField && typeof params[nameField] === 'string') headers['Mcp-Name'] = params[nameField] as string;
  const response = await fetch(url, {
    method: 'POST',
    headers,
    body: JSON.stringify({
      jsonrpc: '2.0',
      id,
      method,
      params: {
        ...params,
        _meta: {
          'io.modelcontextprotocol/protocolVersion': V2_PROTOCOL,
          'io.modelcontextprotocol/clientInfo': { name: 'mcp-jobs-wire-test', version: '0.0.0' },
          'io.modelcontextprotocol/clientCapabilities': capabilities,
        },
      },
    }),
  });
  return readReply(response, id);
}
