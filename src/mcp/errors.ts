/**
 * Turns what the MCP client libraries throw into our JobErrors. The libraries wrap errors several layers deep
 * (ext-tasks DispatchError → SDK HTTP error → fetch TypeError → system error), so this walks the cause chain.
 */
import { describeError, JobError, type JobErrorDetails } from '../core/errors.js';
import { inert } from '../core/text.js';

interface ErrorLike {
  name?: string;
  message?: string;
  code?: unknown;
  data?: unknown;
  cause?: unknown;
}

function chain(error: unknown): ErrorLike[] {
  const out: ErrorLike[] = [];
  let current: unknown = error;
  while (current !== null && typeof current === 'object' && out.length < 8) {
    out.push(current as ErrorLike);
    current = (current as ErrorLike).cause;
  }
  return out;
}

/**
 * Server-defined JSON-RPC codes that no retry can change: 2026-07-28's header mismatch (-32020), missing client
 * capability (-32021), unsupported protocol version (-32022), and URL elicitation required (-32042).
 */
const FINAL_SERVER_CODES = new Set([-32020, -32021, -32022, -32042]);

/** HTTP statuses that say "not now" rather than "no": a gateway in trouble, a rate limit, an overloaded server. */
const RETRY_STATUSES = new Set([408, 425, 429, 500, 502, 503, 504]);

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
function httpStatus(links: ErrorLike[]): number | undefined {
  for (const link of links) {
    const data = link.data as { status?: unknown } | undefined;
    if (data !== undefined && data !== null && typeof data === 'object' && typeof data.status === 'number') {
      return data.status;
    }
  }
  return undefined;
}

/** The JSON-RPC error code, if the server answered with a JSON-RPC error. */
export function rpcCode(error: unknown): number | undefined {
  for (const link of chain(error)) {
    // An AbortError or TimeoutError (a DOMException) has a legacy numeric code (20, 23): not the server's.
    if (link instanceof DOMException) continue;
    if (typeof link.code === 'number') return link.code;
  }
  return undefined;
}

export interface MappingContext {
  /** The server URL, for messages. */
  url: string;
  /** The task the request was about, when there is one: a lost session or unknown task means it is gone. */
  taskId?: string;
  /** What we were doing: `connecting`, `submitting`, `following the task`… */
  doing: string;
  /** The protocol generation the task was created with: a server answering as the other one has switched. */
  generation?: string;
  jobId?: string;
}

/**
 * Whether a reply shows a server of the other task generation: a 2026-07-28 server refuses a session request for
 * lack of `_meta` or with -32022 (unsupported version); a 2025-11-25 server refuses a stateless request for lack of
 * a session, or does not know the extension's methods.
 */
function switchedGeneration(
  generation: string,
  code: number | undefined,
  status: number | undefined,
  text: string,
): boolean {
  if (generation === '2025-11-25')
    return code === -32022 || /missing _meta|_meta\b.*(required|missing)|unsupported protocol version/i.test(text);
  if (generation === '2026-07-28')
    return /no valid session|session id/i.test(text) || (code === -32601 && status !== 404);
  return false;
}

/** Maps any error from the MCP client stack to a JobError with a message naming the server and the task. */
export function toJobError(error: unknown, ctx: MappingContext): JobError {
  if (error instanceof JobError) return error;
  const links = chain(error);
  const details: JobErrorDetails = { cause: error, ...(ctx.jobId ? { jobId: ctx.jobId } : {}) };
  // What the server said, on one line: it ends up in log lines and annotations.
  const reason = inert(describeError(error));
  const status = httpStatus(links);
  const code = rpcCode(error);
  const text = links.map((l) => `${l.message ?? ''} ${JSON.stringify(l.data ?? '')}`).join(' ');

  if (ctx.generation !== undefined && switchedGeneration(ctx.generation, code, status, text)) {
    return new JobError(
      'PROTOCOL_ERROR',
      `The MCP server ${ctx.url} no longer speaks protocol ${ctx.generation}, which task ${ctx.taskId ?? ''} was created with: it answers as a ${ctx.generation === '2025-11-25' ? '2026-07-28 (stateless)' : '2025-11-25 (session)'} server. The task cannot be followed or cancelled from here (${reason})`,
      { ...details, retryable: false },
    );
  }
  if (ctx.taskId !== undefined) {
    // 2026-07-28 has no sessions: a 404 there is routing (a redeploy, say), not a lost session.
    const sessionGone =
      ctx.generation !== '2026-07-28' && (status === 404 || (status === 400 && /session/i.test(text)));
    const taskGone = code === -32602 && /task|not found/i.test(text);
    if (sessionGone || taskGone) {
      return new JobError(
        'TASK_LOST',
        `The server no longer has task ${ctx.taskId} (${sessionGone ? 'its MCP session is gone: the server restarted or expired it' : 'it is unknown or expired'}): ${reason}`,
        { ...details, retryable: false },
      );
    }
  }
  if (links.some((l) => l.code === 'REQUEST_TIMEOUT' || l.name === 'TimeoutError')) {
    // (A request the client library gave up on, or that our own bound cut short.)
    return new JobError(
      'SERVER_UNREACHABLE',
      `The MCP server ${ctx.url} did not answer in time while ${ctx.doing}: ${reason}`,
      {
        ...details,
        retryable: true,
      },
    );
  }
  if (
    links.some(
      (l) =>
        (typeof l.code === 'string' && NETWORK_CODES.has(l.code)) ||
        (l.name === 'TypeError' && /fetch failed|terminated/i.test(l.message ?? '')) ||
        /other side closed|socket hang up|terminated/i.test(l.message ?? '') ||
        // The client library's own words for a connection that went away or a body that is not MCP at all.
        (typeof l.code === 'string' &&
          ['CONNECTION_CLOSED', 'NOT_CONNECTED', 'CLIENT_HTTP_UNEXPECTED_CONTENT'].includes(l.code)),
    ) ||
    (status !== undefined && RETRY_STATUSES.has(status))
  ) {
    return new JobError(
      'SERVER_UNREACHABLE',
      `Cannot reach the MCP server ${ctx.url} while ${ctx.doing}${status === undefined ? '' : ` (HTTP ${status}${status === 429 ? ': too many requests' : ''})`}: ${reason}`,
      { ...details, retryable: true },
    );
  }
  if (status === 401 || status === 403) {
    return new JobError(
      'SERVER_ERROR',
      `The MCP server ${ctx.url} refused the request with HTTP ${status} while ${ctx.doing}; check the 'headers' input (authorization): ${reason}`,
      details,
    );
  }
  if (code !== undefined && code !== -32700) {
    // The server answered with a JSON-RPC error: its code says more than any guess from the message. An internal
    // error (-32603) or a server-defined one (-32000..-32099) may pass; anything else is the server's answer.
    return new JobError(
      'SERVER_ERROR',
      `The MCP server ${ctx.url} returned error ${code} while ${ctx.doing}: ${reason}`,
      { ...details, retryable: code === -32603 || (code <= -32000 && code >= -32099 && !FINAL_SERVER_CODES.has(code)) },
    );
  }
  if (
    links.some(
      (l) =>
        l.name === 'ProtocolDecodeError' ||
        l.name === 'SyntaxError' ||
        l.name === 'ZodError' ||
        l.name === '$ZodError' ||
        /invalid (json|input)|failed schema validation|unexpected token|is not valid json|parse error/i.test(
          l.message ?? '',
        ),
    ) ||
    code === -32700
  ) {
    // A reply that is not JSON at all is what a proxy or gateway in trouble sends (an HTML error page): retryable.
    // A well-formed reply of the wrong shape is the server's own doing and is not.
    const garbled = links.some((l) => l.name === 'SyntaxError') || code === -32700;
    return new JobError(
      'PROTOCOL_ERROR',
      `The MCP server ${ctx.url} sent a reply that is not valid MCP while ${ctx.doing}: ${reason}`,
      { ...details, retryable: garbled },
    );
  }
  if (status !== undefined) {
    return new JobError(
      'SERVER_ERROR',
      `The MCP server ${ctx.url} answered HTTP ${status} while ${ctx.doing}: ${reason}`,
      details,
    );
  }
  return new JobError('INTERNAL', `Unexpected failure while ${ctx.doing} with ${ctx.url}: ${reason}`, details);
}
