/**
 * The request path for 2026-07-28 task traffic. Upstream limitation (client 2.4.0 with ext-tasks 0.2.2): the SDK
 * client's codec rejects `resultType: "task"` replies and refuses `tasks/*` methods in the 2026 era, so ext-tasks
 * needs a host-owned `rawDispatch`. This one POSTs JSON-RPC over Streamable HTTP with the headers the extension
 * requires (`MCP-Protocol-Version`, `Mcp-Method`, `Mcp-Name`) plus the user's headers, and accepts a JSON or an SSE
 * reply. (ext-tasks adds `Mcp-Name` itself only for `tasks/*`; `tools/call` carries the tool name here.)
 */
import type { RawClientDispatch } from '@modelcontextprotocol/ext-tasks/client';

export const V2_PROTOCOL = '2026-07-28';

/** Which param names a request in the `Mcp-Name` header. */
const NAME_PARAM: Record<string, string> = {
  'tools/call': 'name',
  'tasks/get': 'taskId',
  'tasks/update': 'taskId',
  'tasks/cancel': 'taskId',
};

/** A non-JSON-RPC HTTP failure, shaped like the SDK's HTTP errors (`data.status`) for our error mapping. */
class HttpStatusError extends Error {
  constructor(
    message: string,
    readonly data: { status: number; text: string },
  ) {
    super(message);
    this.name = 'HttpStatusError';
  }
}

export function v2Dispatch(
  url: string,
  headers: Record<string, string>,
  fetchImpl: typeof fetch = fetch,
): RawClientDispatch {
  let nextId = 1;
  return async (request, options) => {
    const { method, params } = request as { method: string; params?: Record<string, unknown> };
    const id = (request as { id?: unknown }).id ?? `mcp-jobs-${nextId++}`;
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
    if (message?.error !== undefined) return { kind: 'error', error: message.error as never };
    if (!response.ok || message === undefined || !('result' in message)) {
      throw new HttpStatusError(`HTTP ${response.status} for ${method}: ${text.slice(0, 300)}`, {
        status: response.status,
        text: text.slice(0, 1000),
      });
    }
    return { kind: 'result', result: message.result as never };
  };
}

interface JsonRpcReply {
  id?: unknown;
  result?: unknown;
  error?: unknown;
}

/** The JSON-RPC reply to request `id` in a JSON body or an SSE stream. Throws SyntaxError on a body that is neither. */
function parseReply(text: string, contentType: string, id: unknown): JsonRpcReply | undefined {
  if (text.trim() === '') return undefined;
  if (!contentType.includes('text/event-stream')) return JSON.parse(text) as JsonRpcReply;
  for (const event of text.split(/\r?\n\r?\n/)) {
    const data = event
      .split(/\r?\n/)
      .filter((line) => line.startsWith('data:'))
      .map((line) => line.slice(5).trimStart())
      .join('\n');
    if (data === '') continue;
    const message = JSON.parse(data) as JsonRpcReply;
    if (message.id === id && ('result' in message || 'error' in message)) return message;
  }
  return undefined;
}

/** Header values must be ASCII: anything else goes as the extension's `=?base64?…?=` form. */
function encodeHeaderValue(value: string): string {
  return /^[\x20-\x7e]*$/.test(value) ? value : `=?base64?${Buffer.from(value, 'utf8').toString('base64')}?=`;
}
