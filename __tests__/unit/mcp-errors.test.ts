import { describe, expect, it } from '@jest/globals';
import { describeError, invalidInput, isJobError, JobError } from '../../src/core/errors.js';
import { rpcCode, toJobError, type MappingContext } from '../../src/mcp/errors.js';

const URL = 'https://mcp.example.com/mcp';
const following: MappingContext = { url: URL, doing: 'following task task-7', taskId: 'task-7', jobId: 'job_abc123' };
const connecting: MappingContext = { url: URL, doing: 'connecting' };

/** An error as Node's fetch throws it when nothing listens: TypeError('fetch failed') caused by a system error. */
function refused(): Error {
  const system = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:3000'), {
    code: 'ECONNREFUSED',
    errno: -111,
    syscall: 'connect',
  });
  return new TypeError('fetch failed', { cause: system });
}

/** An SDK-style HTTP error: the status travels in `data`. */
function httpError(status: number, message: string, cause?: unknown): Error {
  return Object.assign(new Error(message, cause === undefined ? undefined : { cause }), {
    name: 'SdkError',
    data: { status, statusText: message },
  });
}

/** A JSON-RPC error answer from the server. */
function rpcError(code: number, message: string, data?: unknown): Error {
  return Object.assign(new Error(`MCP error ${code}: ${message}`), { name: 'ProtocolError', code, data });
}

describe('toJobError', () => {
  it('maps a refused connection several causes deep to a retryable SERVER_UNREACHABLE', () => {
    const error = new Error('Streamable HTTP error: Error POSTing to endpoint', { cause: refused() });
    const mapped = toJobError(error, connecting);
    expect(mapped.code).toBe('SERVER_UNREACHABLE');
    expect(mapped.retryable).toBe(true);
    expect(mapped.message).toContain(URL);
    expect(mapped.message).toContain('connecting');
    expect(mapped.cause).toBe(error);
  });

  it('maps a refused connection to SERVER_UNREACHABLE even when a task is involved', () => {
    expect(toJobError(refused(), following).code).toBe('SERVER_UNREACHABLE');
  });

  it.each(['ECONNRESET', 'ENOTFOUND', 'ETIMEDOUT', 'UND_ERR_SOCKET'])('treats %s as unreachable', (code) => {
    const error = new Error('request failed', { cause: Object.assign(new Error(code), { code }) });
    expect(toJobError(error, connecting)).toMatchObject({ code: 'SERVER_UNREACHABLE', retryable: true });
  });

  it.each([502, 503, 504])('treats HTTP %d as unreachable', (status) => {
    expect(toJobError(httpError(status, 'Bad Gateway'), connecting)).toMatchObject({
      code: 'SERVER_UNREACHABLE',
      retryable: true,
    });
  });

  it('treats a socket closed by the other side as unreachable', () => {
    expect(toJobError(new Error('other side closed'), following).code).toBe('SERVER_UNREACHABLE');
  });

  it('maps HTTP 404 on a task request to TASK_LOST (the session is gone)', () => {
    const mapped = toJobError(httpError(404, 'Session not found'), following);
    expect(mapped.code).toBe('TASK_LOST');
    expect(mapped.retryable).toBe(false);
    expect(mapped.message).toContain('task-7');
    expect(mapped.message).toContain('session');
    expect(mapped.jobId).toBe('job_abc123');
  });

  it('maps HTTP 400 "No valid session ID" on a task request to TASK_LOST', () => {
    const error = httpError(400, 'Bad Request: No valid session ID provided');
    expect(toJobError(error, following).code).toBe('TASK_LOST');
  });

  it('maps a JSON-RPC "Task not found" on a task request to TASK_LOST', () => {
    const mapped = toJobError(rpcError(-32602, 'Task not found'), following);
    expect(mapped.code).toBe('TASK_LOST');
    expect(mapped.message).toContain('unknown or expired');
  });

  it('does not call anything lost without a task', () => {
    expect(toJobError(httpError(404, 'Not Found'), connecting).code).toBe('SERVER_ERROR');
    expect(toJobError(rpcError(-32602, 'Task not found'), connecting).code).toBe('SERVER_ERROR');
  });

  it('does not call a task lost for HTTP 400 without a session problem', () => {
    expect(toJobError(httpError(400, 'Bad Request: body too large'), following).code).toBe('SERVER_ERROR');
  });

  it.each([401, 403])('maps HTTP %d to SERVER_ERROR pointing at the headers input', (status) => {
    const mapped = toJobError(httpError(status, 'Unauthorized'), connecting);
    expect(mapped.code).toBe('SERVER_ERROR');
    expect(mapped.retryable).toBe(false);
    expect(mapped.message).toContain(`HTTP ${status}`);
    expect(mapped.message).toContain("'headers' input");
  });

  it('maps a decode failure to PROTOCOL_ERROR', () => {
    const decode = Object.assign(new Error('could not decode the reply'), { name: 'ProtocolDecodeError' });
    const mapped = toJobError(new Error('request failed', { cause: decode }), connecting);
    expect(mapped.code).toBe('PROTOCOL_ERROR');
    expect(mapped.message).toContain('not valid MCP');
  });

  it('maps a JSON syntax error and a parse-error answer to PROTOCOL_ERROR', () => {
    expect(toJobError(new SyntaxError('Unexpected token < in JSON at position 0'), connecting).code).toBe(
      'PROTOCOL_ERROR',
    );
    expect(toJobError(rpcError(-32700, 'Parse error'), connecting).code).toBe('PROTOCOL_ERROR');
  });

  it.each([408, 429, 500, 502, 503, 504])(
    'maps HTTP %i (not now, rather than no) to a retryable SERVER_UNREACHABLE',
    (status) => {
      const mapped = toJobError(httpError(status, 'Try later'), connecting);
      expect(mapped).toMatchObject({ code: 'SERVER_UNREACHABLE', retryable: true });
      expect(mapped.message).toContain(`HTTP ${status}`);
    },
  );

  it('maps any other HTTP status to SERVER_ERROR naming it', () => {
    const mapped = toJobError(httpError(418, "I'm a teapot"), connecting);
    expect(mapped).toMatchObject({ code: 'SERVER_ERROR', retryable: false });
    expect(mapped.message).toContain('HTTP 418');
  });

  it('maps a request timeout (the server hangs) to a retryable SERVER_UNREACHABLE', () => {
    const timeout = Object.assign(new Error('Request timed out'), { code: 'REQUEST_TIMEOUT' });
    expect(toJobError(timeout, connecting)).toMatchObject({ code: 'SERVER_UNREACHABLE', retryable: true });
  });

  it('retries a garbled reply (a gateway error page) but not a well-formed reply of the wrong shape', () => {
    expect(toJobError(new SyntaxError('Unexpected token <'), connecting)).toMatchObject({ retryable: true });
    const shape = Object.assign(new Error('Protocol value failed schema validation'), { name: 'ProtocolDecodeError' });
    expect(toJobError(shape, connecting)).toMatchObject({ code: 'PROTOCOL_ERROR', retryable: false });
  });

  it('maps any other JSON-RPC error to SERVER_ERROR naming its code', () => {
    const mapped = toJobError(rpcError(-32603, 'Internal error'), { url: URL, doing: "calling tool 'x'" });
    expect(mapped.code).toBe('SERVER_ERROR');
    expect(mapped.message).toContain('-32603');
    expect(mapped.message).toContain("calling tool 'x'");
  });

  it('maps anything unknown to INTERNAL', () => {
    expect(toJobError(new Error('weird'), connecting).code).toBe('INTERNAL');
    expect(toJobError('a string', connecting).code).toBe('INTERNAL');
  });

  it('passes a JobError through unchanged', () => {
    const original = new JobError('TOOL_NOT_FOUND', 'no such tool', { input: 'tool' });
    expect(toJobError(original, following)).toBe(original);
  });

  it('stops following a cause chain that loops', () => {
    const a: Error & { cause?: unknown } = new Error('a');
    const b = new Error('b', { cause: a });
    a.cause = b;
    expect(toJobError(a, connecting).code).toBe('INTERNAL');
  });
});

describe('rpcCode', () => {
  it('finds the first numeric code in the cause chain, ignoring system error codes', () => {
    expect(rpcCode(new Error('outer', { cause: rpcError(-32602, 'bad') }))).toBe(-32602);
    expect(rpcCode(refused())).toBeUndefined();
    expect(rpcCode(undefined)).toBeUndefined();
  });
});

describe('JobError', () => {
  it('is retryable by default only for an unreachable server or store', () => {
    expect(new JobError('SERVER_UNREACHABLE', 'x').retryable).toBe(true);
    expect(new JobError('STORE_UNAVAILABLE', 'x').retryable).toBe(true);
    expect(new JobError('SERVER_ERROR', 'x').retryable).toBe(false);
    expect(new JobError('SERVER_UNREACHABLE', 'x', { retryable: false }).retryable).toBe(false);
  });

  it('names the input first in an input error', () => {
    const error = invalidInput('task-ttl', 'must be positive');
    expect(error.message).toBe("Input 'task-ttl' must be positive");
    expect(isJobError(error, 'INVALID_INPUT')).toBe(true);
    expect(isJobError(error, 'INTERNAL')).toBe(false);
    expect(isJobError(new Error('x'))).toBe(false);
  });

  it('describes an error with its cause once', () => {
    expect(describeError(new Error('outer', { cause: new Error('inner') }))).toBe('outer (inner)');
    expect(describeError(new Error('outer: inner', { cause: new Error('inner') }))).toBe('outer: inner');
    expect(describeError('plain')).toBe('plain');
  });
});

describe('toJobError: what a retry can and cannot fix', () => {
  const following: MappingContext = { url: URL, doing: 'reading task t1', taskId: 't1', generation: '2026-07-28' };

  it('never takes an abort or timeout DOMException code (20, 23) for the server’s JSON-RPC code', () => {
    const aborted = new Error('tasks/cancel failed', {
      cause: new DOMException('The operation timed out', 'TimeoutError'),
    });
    expect(rpcCode(aborted)).toBeUndefined();
    expect(toJobError(aborted, connecting)).toMatchObject({ code: 'SERVER_UNREACHABLE', retryable: true });
  });

  it.each([-32020, -32021, -32022, -32042])('does not retry the final server-defined code %i', (code) => {
    expect(toJobError(rpcError(code, 'no'), connecting)).toMatchObject({ code: 'SERVER_ERROR', retryable: false });
  });

  it('retries an internal error and other server-defined codes', () => {
    expect(toJobError(rpcError(-32603, 'oops'), connecting).retryable).toBe(true);
    expect(toJobError(rpcError(-32050, 'busy'), connecting).retryable).toBe(true);
  });

  it('takes a 404 on 2026-07-28 (no sessions there) for routing, not a lost task', () => {
    expect(toJobError(httpError(404, 'Not Found'), following).code).not.toBe('TASK_LOST');
    expect(toJobError(httpError(404, 'Not Found'), { ...following, generation: '2025-11-25' }).code).toBe('TASK_LOST');
  });

  it.each(['CONNECTION_CLOSED', 'NOT_CONNECTED', 'CLIENT_HTTP_UNEXPECTED_CONTENT'])(
    'maps the client library’s %s to a retryable SERVER_UNREACHABLE',
    (code) => {
      const error = Object.assign(new Error('went away'), { name: 'SdkError', code });
      expect(toJobError(error, connecting)).toMatchObject({ code: 'SERVER_UNREACHABLE', retryable: true });
    },
  );
});
