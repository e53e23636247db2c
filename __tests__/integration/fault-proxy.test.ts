/**
 * The fault-injecting proxy (`__tests__/helpers/fault-proxy.ts`) does what each mode says, against the v1 task
 * fixture and an in-process echo server, with raw fetch (`__tests__/helpers/mcp-http.ts`) and the official client.
 * Then the fixture features fault tests rely on: `ask-outside` (elicitation on the session GET stream), a server
 * without the tasks.cancel capability, fast polling, and the v2 fixture's task persistence across a restart.
 */
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { createTaskSessionFromClient } from '@modelcontextprotocol/ext-tasks/client';
import { matchHttp, matchRpc, startFaultProxy, type FaultProxy } from '../helpers/fault-proxy.js';
import { V1Session, v2Request } from '../helpers/mcp-http.js';
import { fixtureTask, startFixtureServer, startV2FixtureServer, type RunningServer } from '../helpers/servers.js';

const TASK = { task: { ttl: 60_000 } };

/** The error code under a fetch failure (`TypeError: fetch failed` → cause.code), or the message. */
async function fetchFailure(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    return cause?.code ?? cause?.message ?? (error as Error).message;
  }
  throw new Error('expected the request to fail');
}

/** Sessions the v1 fixture holds (GET /_fixture/tasks, straight to the server). */
async function fixtureSessions(server: RunningServer): Promise<string[]> {
  const response = await fetch(new URL('/_fixture/tasks', server.url));
  return JSON.parse(await response.text()).sessions;
}

/** Settles state of a promise without waiting for it. */
function track<T>(promise: Promise<T>): { settled: () => boolean; promise: Promise<T> } {
  let settled = false;
  promise.then(
    () => (settled = true),
    () => (settled = true),
  );
  return { settled: () => settled, promise };
}

describe('fault proxy in front of the v1 fixture', () => {
  let server: RunningServer;
  let proxy: FaultProxy;

  beforeAll(async () => {
    server = await startFixtureServer({ pollIntervalMs: 200 });
    proxy = await startFaultProxy(server.port);
  });
  afterEach(async () => {
    await proxy.setMode({ kind: 'pass' });
  });
  afterAll(async () => {
    await proxy?.close();
    await server?.stop();
  });

  test('pass: initialize, a task-augmented tools/call and the blocking tasks/result SSE come through; the log has the rpc methods', async () => {
    expect(proxy.url).toBe(`http://127.0.0.1:${proxy.port}/mcp`);
    const mark = proxy.log().length;
    const session = new V1Session(proxy.url);
    const init = await session.initialize();
    expect(init.capabilities.tasks).toEqual({ list: {}, cancel: {}, requests: { tools: { call: {} } } });

    const created = await session.call('tools/call', {
      name: 'slow',
      arguments: { durationMs: 400, text: 'through the proxy' },
      ...TASK,
    });
    const taskId = created.task.taskId as string;
    const result = await session.request('tasks/result', { taskId });
    expect(result.status).toBe(200);
    expect(result.contentType).toMatch(/^text\/event-stream/);
    expect(result.response.result.content).toEqual([{ type: 'text', text: 'through the proxy' }]);
    expect(await session.terminate()).toBe(200);
    expect(await fixtureSessions(server)).not.toContain(session.sessionId);

    const seen = proxy.log().filter((r) => r.seq > mark);
    expect(seen.map((r) => [r.httpMethod, r.rpcMethod ?? null, r.mode, r.status, r.outcome])).toEqual([
      ['POST', 'initialize', 'pass', 200, 'answered'],
      ['POST', 'notifications/initialized', 'pass', 202, 'answered'],
      ['POST', 'tools/call', 'pass', 200, 'answered'],
      ['POST', 'tasks/result', 'pass', 200, 'answered'],
      ['DELETE', null, 'pass', 200, 'answered'],
    ]);
    const [initEntry, initialized, call, taskResult] = seen;
    expect(initEntry.sessionId).toBeUndefined();
    expect(initialized.sessionId).toBe(session.sessionId);
    expect(initialized.protocolVersion).toBe('2025-11-25');
    expect(initialized.rpcKind).toBe('notification');
    expect(call).toMatchObject({ rpcKind: 'request', name: 'slow' });
    expect(call.responseMessages).toContainEqual(
      expect.objectContaining({ kind: 'result', taskId, taskStatus: 'working' }),
    );
    expect(taskResult.taskId).toBe(taskId);
    expect(taskResult.responseMessages).toContainEqual(expect.objectContaining({ kind: 'result', taskId }));
  });

  test('pass: the official client runs a task to completion through the proxy', async () => {
    const client = new Client({ name: 'mcp-jobs-fault-proxy-test', version: '0.0.0' });
    await client.connect(new StreamableHTTPClientTransport(new URL(proxy.url)));
    const session = createTaskSessionFromClient(client, { endpointId: 'proxy' });
    try {
      const execution = await session.callTool(
        'slow',
        { durationMs: 300, text: 'sdk' },
        {
          task: { preference: 'require' },
        },
      );
      expect(execution.kind).toBe('task');
      if (execution.kind !== 'task') return;
      const { outcome } = await execution.settle();
      expect(outcome.status).toBe('completed');
      if (outcome.status === 'completed') {
        expect((outcome.result as any).content).toEqual([{ type: 'text', text: 'sdk' }]);
      }
    } finally {
      await session.close().catch(() => {});
      await client.close().catch(() => {});
    }
  });

  test('pass: a large result (8 MiB in one SSE event) arrives intact', async () => {
    const session = new V1Session(proxy.url);
    await session.initialize();
    const created = await session.call('tools/call', {
      name: 'big-result',
      arguments: { bytes: 8 * 1024 * 1024 },
      ...TASK,
    });
    const result = await session.call('tasks/result', { taskId: created.task.taskId });
    expect(result.content[0].text).toHaveLength(8 * 1024 * 1024);
    expect(result.content[0].text.startsWith('mcp-jobs fixture big result')).toBe(true);
    await session.terminate();
  });

  test('hang with forward: the server answers, the client waits until the mode changes', async () => {
    const session = new V1Session(proxy.url);
    await session.initialize();
    await proxy.setMode({ kind: 'hang', forward: true }, { match: matchRpc('tools/call'), requests: 1 });
    const hung = track(session.request('tools/call', { name: 'slow', arguments: { durationMs: 50 }, ...TASK }));
    const entry = await proxy.waitFor(
      (r) => r.sessionId === session.sessionId && r.rpcMethod === 'tools/call' && r.upstreamStatus === 200,
    );
    expect(entry.mode).toBe('hang');
    const created = await server.waitForStdout(new RegExp(`^CREATED (\\S+) slow ${session.sessionId}$`, 'm'));
    // The task the client never heard of runs to its end on the server.
    await server.waitForStdout(new RegExp(`^COMPLETED ${created[1]} \\d+$`, 'm'));
    expect(hung.settled()).toBe(false);
    await proxy.setMode({ kind: 'pass' });
    expect(await fetchFailure(hung.promise)).toMatch(/ECONNRESET|UND_ERR_SOCKET|other side closed/);
    await session.terminate();
  });

  test('refuse: connections are refused on the same port, open streams are cut, and the session survives', async () => {
    const session = new V1Session(proxy.url);
    await session.initialize();
    const stream = await session.openGetStream();
    expect(stream.status).toBe(200);
    const created = await session.call('tools/call', { name: 'slow', arguments: { durationMs: 600 }, ...TASK });
    const port = proxy.port;

    await proxy.setMode({ kind: 'refuse' });
    expect(await fetchFailure(fetch(proxy.url, { method: 'POST', body: '{}' }))).toBe('ECONNREFUSED');
    expect(await fetchFailure(session.request('tasks/get', { taskId: created.task.taskId }))).toBe('ECONNREFUSED');
    const ended = await stream.ended;
    expect(ended.error).toBeDefined();
    expect(await fixtureSessions(server)).toContain(session.sessionId);
    await server.waitForStdout(new RegExp(`^COMPLETED ${created.task.taskId} `, 'm'));

    await proxy.setMode({ kind: 'pass' });
    expect(proxy.port).toBe(port);
    const result = await session.call('tasks/result', { taskId: created.task.taskId });
    expect(result.content).toEqual([{ type: 'text', text: 'done' }]);
    await session.terminate();
  });

  test('refuse takes no match and no request count', async () => {
    await expect(proxy.setMode({ kind: 'refuse' }, { requests: 1 })).rejects.toThrow(/refuse takes no match/);
    await expect(proxy.setMode({ kind: 'status', status: 42 })).rejects.toThrow(/HTTP status 200-599/);
  });

  test('reset: the connection is reset for the next N matching requests, then requests pass', async () => {
    const session = new V1Session(proxy.url);
    await session.initialize();
    await proxy.setMode({ kind: 'reset' }, { match: matchRpc('tools/list'), requests: 1 });
    expect(await fetchFailure(session.request('tools/list'))).toMatch(/ECONNRESET|UND_ERR_SOCKET|other side closed/);
    expect(proxy.mode).toEqual({ kind: 'pass' });
    const tools = await session.call('tools/list');
    expect(tools.tools.map((t: { name: string }) => t.name)).toContain('ask-outside');
    const lists = proxy.log().filter((r) => r.sessionId === session.sessionId && r.rpcMethod === 'tools/list');
    expect(lists.map((r) => [r.mode, r.outcome])).toEqual([
      ['reset', 'reset'],
      ['pass', 'answered'],
    ]);
    await session.terminate();
  });

  test('reset with forward: the server acts on the request, the client never hears of it', async () => {
    const session = new V1Session(proxy.url);
    await session.initialize();
    await proxy.setMode({ kind: 'reset', forward: true }, { match: matchRpc('tools/call'), requests: 1 });
    const failure = await fetchFailure(
      session.request('tools/call', { name: 'slow', arguments: { durationMs: 100 }, ...TASK }),
    );
    expect(failure).toMatch(/ECONNRESET|UND_ERR_SOCKET|other side closed/);
    const entry = await proxy.waitFor((r) => r.sessionId === session.sessionId && r.rpcMethod === 'tools/call');
    expect(entry).toMatchObject({ mode: 'reset', upstreamStatus: 200, outcome: 'reset' });
    const line = await server.waitForStdout(new RegExp(`^CREATED (\\S+) slow ${session.sessionId}$`, 'm'));
    expect((await fixtureTask(server, line[1]))?.sessionId).toBe(session.sessionId);
    await session.terminate();
  });

  test('hang: the request stays pending until the mode changes, then it is destroyed', async () => {
    const session = new V1Session(proxy.url);
    await session.initialize();
    await proxy.setMode({ kind: 'hang' }, { match: matchRpc('tools/list') });
    const hung = track(session.request('tools/list'));
    await proxy.waitFor((r) => r.sessionId === session.sessionId && r.rpcMethod === 'tools/list');
    // Other requests still pass while it hangs.
    expect((await session.request('ping')).status).toBe(200);
    expect(hung.settled()).toBe(false);
    expect(proxy.log().find((r) => r.sessionId === session.sessionId && r.mode === 'hang')?.outcome).toBeUndefined();

    await proxy.setMode({ kind: 'pass' });
    expect(await fetchFailure(hung.promise)).toMatch(/ECONNRESET|UND_ERR_SOCKET|other side closed/);
    const entry = await proxy.waitFor((r) => r.sessionId === session.sessionId && r.mode === 'hang' && !!r.outcome);
    expect(entry.outcome).toBe('released');
    expect((await session.request('tools/list')).status).toBe(200);
    await session.terminate();
  });

  test('status: 502 then 429 with Retry-After for the next N requests, then pass', async () => {
    const session = new V1Session(proxy.url);
    await session.initialize();
    await proxy.setMode({ kind: 'status', status: 502 }, { requests: 2 });
    for (let i = 0; i < 2; i++) {
      const reply = await session.request('ping');
      expect(reply.status).toBe(502);
      expect(reply.contentType).toMatch(/^text\/html/);
      expect(reply.text).toContain('502 Bad Gateway');
    }
    expect((await session.request('ping')).status).toBe(200);

    await proxy.setMode({ kind: 'status', status: 429, retryAfter: '1' }, { requests: 1 });
    const limited = await session.request('ping');
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('1');
    expect((await session.request('ping')).status).toBe(200);
    const pings = proxy.log().filter((r) => r.sessionId === session.sessionId && r.rpcMethod === 'ping');
    expect(pings.map((r) => [r.mode, r.status])).toEqual([
      ['status', 502],
      ['status', 502],
      ['pass', 200],
      ['status', 429],
      ['pass', 200],
    ]);
    await session.terminate();
  });

  test('garbage: 200 application/json with a body that is not JSON', async () => {
    const session = new V1Session(proxy.url);
    await session.initialize();
    await proxy.setMode({ kind: 'garbage' }, { match: matchRpc('tools/list'), requests: 1 });
    const reply = await session.request('tools/list');
    expect(reply.status).toBe(200);
    expect(reply.contentType).toBe('application/json');
    expect(() => JSON.parse(reply.text)).toThrow(SyntaxError);
    expect((await session.request('tools/list')).response.result.tools.length).toBeGreaterThan(0);
    await session.terminate();
  });

  test('idle-cut: a tasks/result SSE stream still open after afterMs is cut; asked again, it gives the result', async () => {
    const session = new V1Session(proxy.url);
    await session.initialize();
    const created = await session.call('tools/call', { name: 'until-cancelled', arguments: {}, ...TASK });
    const taskId = created.task.taskId as string;
    await proxy.setMode({ kind: 'idle-cut', afterMs: 200 }, { match: matchRpc('tasks/result') });
    const { stream } = await session.stream('tasks/result', { taskId });
    expect(stream.status).toBe(200);
    const ended = await stream.ended;
    expect(ended.error).toBeDefined();
    const entry = await proxy.waitFor((r) => r.taskId === taskId && r.rpcMethod === 'tasks/result' && !!r.outcome);
    expect(entry).toMatchObject({ mode: 'idle-cut', status: 200, outcome: 'cut' });
    // Short replies are not touched.
    expect((await session.request('tasks/get', { taskId })).response.result.status).toBe('working');

    await proxy.setMode({ kind: 'pass' });
    const pending = session.request('tasks/result', { taskId });
    await proxy.waitFor((r) => r.taskId === taskId && r.rpcMethod === 'tasks/result' && r.mode === 'pass');
    await session.call('tasks/cancel', { taskId });
    const reply = await pending;
    expect(reply.status).toBe(200);
    await session.terminate();
  });

  test('idle-cut and cut(): the session GET stream is dropped mid-way', async () => {
    const session = new V1Session(proxy.url);
    await session.initialize();
    await proxy.setMode({ kind: 'idle-cut', afterMs: 100 }, { match: matchHttp('GET'), requests: 1 });
    const first = await session.openGetStream();
    expect(first.status).toBe(200);
    expect((await first.ended).error).toBeDefined();

    // The next GET passes; cut() drops it on demand.
    const second = await session.openGetStream();
    expect(second.status).toBe(200);
    expect(proxy.cut((r) => r.httpMethod === 'GET' && r.sessionId === session.sessionId)).toBe(1);
    expect((await second.ended).error).toBeDefined();
    const gets = proxy.log().filter((r) => r.httpMethod === 'GET' && r.sessionId === session.sessionId);
    expect(gets.map((r) => [r.mode, r.outcome])).toEqual([
      ['idle-cut', 'cut'],
      ['pass', 'cut'],
    ]);
    await session.terminate();
  });
});

describe('fault proxy pass-through fidelity (in-process echo server)', () => {
  let echo: http.Server;
  let proxy: FaultProxy;
  const received: Array<{ method: string; url: string; headers: http.IncomingHttpHeaders; body: string }> = [];
  let releaseSecondEvent: () => void = () => {};
  let upstreamClosed: Promise<void> = Promise.resolve();

  beforeAll(async () => {
    echo = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        received.push({
          method: req.method!,
          url: req.url!,
          headers: req.headers,
          body: Buffer.concat(chunks).toString(),
        });
        if (req.url === '/sse') {
          res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Mcp-Session-Id': 'sse-session' });
          res.write('id: e1\ndata: {"jsonrpc":"2.0","method":"notifications/one"}\n\n');
          releaseSecondEvent = () => res.write('id: e2\ndata: {"jsonrpc":"2.0","method":"notifications/two"}\n\n');
          upstreamClosed = new Promise((resolve) => res.on('close', () => resolve()));
          return;
        }
        const body = JSON.stringify({ echoed: true });
        res.writeHead(207, { 'Content-Type': 'application/json', 'X-Echo': 'yes', 'Mcp-Session-Id': 'echo-session' });
        res.end(body);
      });
    });
    await new Promise<void>((resolve) => echo.listen(0, '127.0.0.1', resolve));
    proxy = await startFaultProxy((echo.address() as { port: number }).port);
  });
  afterAll(async () => {
    await proxy?.close();
    echo.closeAllConnections();
    await new Promise<void>((resolve) => echo.close(() => resolve()));
  });

  test('method, path, query, MCP headers and body reach the server; status, headers and body come back', async () => {
    const headers = {
      'Content-Type': 'application/json',
      Accept: 'application/json, text/event-stream',
      'Mcp-Session-Id': 'sid-1',
      'MCP-Protocol-Version': '2026-07-28',
      'Mcp-Method': 'tasks/get',
      'Mcp-Name': 'task-42',
      'Last-Event-ID': 'evt-7',
      Authorization: 'Bearer not-a-secret-in-tests',
    };
    const body = JSON.stringify({ jsonrpc: '2.0', id: 9, method: 'tasks/get', params: { taskId: 'task-42' } });
    const response = await fetch(`${proxy.url}?x=1`, { method: 'POST', headers, body });
    expect(response.status).toBe(207);
    expect(response.headers.get('x-echo')).toBe('yes');
    expect(response.headers.get('mcp-session-id')).toBe('echo-session');
    expect(JSON.parse(await response.text())).toEqual({ echoed: true });

    const got = received.at(-1)!;
    expect(got.method).toBe('POST');
    expect(got.url).toBe('/mcp?x=1');
    expect(got.body).toBe(body);
    for (const [name, value] of Object.entries(headers)) expect(got.headers[name.toLowerCase()]).toBe(value);
    expect(got.headers['content-length']).toBe(String(Buffer.byteLength(body)));

    const entry = proxy.log().at(-1)!;
    expect(entry).toMatchObject({
      httpMethod: 'POST',
      path: '/mcp?x=1',
      rpcMethod: 'tasks/get',
      rpcId: 9,
      taskId: 'task-42',
      sessionId: 'sid-1',
      protocolVersion: '2026-07-28',
      lastEventId: 'evt-7',
      status: 207,
    });
    expect(entry.headers['mcp-method']).toBe('tasks/get');
    expect(entry.headers['mcp-name']).toBe('task-42');
    // Secrets never reach the log.
    expect(entry.headers.authorization).toBe('***');
  });

  test('DELETE and GET pass with their headers', async () => {
    const deleted = await fetch(proxy.url, { method: 'DELETE', headers: { 'Mcp-Session-Id': 'sid-2' } });
    expect(deleted.status).toBe(207);
    await deleted.text();
    expect(received.at(-1)).toMatchObject({
      method: 'DELETE',
      headers: expect.objectContaining({ 'mcp-session-id': 'sid-2' }),
    });
  });

  test('an SSE response streams event by event, and closing it closes the server side', async () => {
    const controller = new AbortController();
    const response = await fetch(new URL('/sse', proxy.url), {
      headers: { Accept: 'text/event-stream', 'Last-Event-ID': 'e0' },
      signal: controller.signal,
    });
    expect(response.headers.get('content-type')).toBe('text/event-stream');
    expect(response.headers.get('mcp-session-id')).toBe('sse-session');
    const reader = response.body!.getReader();
    const decoder = new TextDecoder();
    let text = '';
    while (!text.includes('notifications/one')) text += decoder.decode((await reader.read()).value);
    // The second event exists only after the client saw the first: nothing is buffered.
    expect(text).not.toContain('notifications/two');
    releaseSecondEvent();
    while (!text.includes('notifications/two')) text += decoder.decode((await reader.read()).value);
    expect(received.at(-1)?.headers['last-event-id']).toBe('e0');
    const entry = await proxy.waitFor((r) => r.path === '/sse' && r.responseMessages.length === 2);
    expect(entry.responseMessages).toEqual([
      { kind: 'notification', method: 'notifications/one', eventId: 'e1' },
      { kind: 'notification', method: 'notifications/two', eventId: 'e2' },
    ]);
    controller.abort();
    await upstreamClosed;
    const closed = await proxy.waitFor((r) => r.path === '/sse' && !!r.outcome);
    expect(closed.outcome).toBe('client-closed');
  });

  test('an unreachable server gives 502 from the proxy', async () => {
    const lonely = http.createServer();
    await new Promise<void>((resolve) => lonely.listen(0, '127.0.0.1', resolve));
    const port = (lonely.address() as { port: number }).port;
    await new Promise<void>((resolve) => lonely.close(() => resolve()));
    const orphan = await startFaultProxy(port);
    try {
      const response = await fetch(orphan.url, { method: 'POST', body: '{}' });
      expect(response.status).toBe(502);
      await response.text();
      expect(orphan.log()[0]).toMatchObject({ outcome: 'upstream-error', error: 'ECONNREFUSED', status: 502 });
    } finally {
      await orphan.close();
    }
  });
});

describe('v1 fixture: ask-outside elicits on the session GET stream, not on tasks/result', () => {
  let server: RunningServer;
  let proxy: FaultProxy;

  beforeAll(async () => {
    server = await startFixtureServer({ pollIntervalMs: 200 });
    proxy = await startFaultProxy(server.port);
  });
  afterAll(async () => {
    await proxy?.close();
    await server?.stop();
  });

  test('the elicitation comes on the GET stream; the answer completes the task with it', async () => {
    const session = new V1Session(proxy.url);
    await session.initialize();
    const get = await session.openGetStream();
    const created = await session.call('tools/call', {
      name: 'ask-outside',
      arguments: { message: 'Which answer?' },
      ...TASK,
    });
    const taskId = created.task.taskId as string;
    const blocking = await session.stream('tasks/result', { taskId });

    const elicitation = await get.next((m) => m.method === 'elicitation/create');
    await server.waitForStdout(new RegExp(`^ELICITED ${taskId}$`, 'm'));
    expect(elicitation.params).toMatchObject({
      mode: 'form',
      message: 'Which answer?',
      requestedSchema: { type: 'object', required: ['answer'] },
    });
    // No related task: nothing ties it to the task but the session.
    expect(elicitation.params._meta?.['io.modelcontextprotocol/related-task']).toBeUndefined();
    expect((await fixtureTask(server, taskId))?.status).toBe('working');

    expect(await session.respond(elicitation.id, { action: 'accept', content: { answer: '42' } })).toBe(202);
    await server.waitForStdout(new RegExp(`^ANSWERED ${taskId} accept$`, 'm'));
    const final = await blocking.stream.next((m) => m.id === blocking.id);
    expect(final.result.structuredContent).toEqual({ action: 'accept', content: { answer: '42' } });
    expect(final.result.content).toEqual([{ type: 'text', text: 'ask-outside: accept {"answer":"42"}' }]);
    expect(blocking.stream.messages.some((m) => m.method === 'elicitation/create')).toBe(false);

    // The proxy saw it the same way: the request on the GET response, the answer as a POSTed JSON-RPC response.
    const getEntry = proxy.log().find((r) => r.httpMethod === 'GET' && r.sessionId === session.sessionId)!;
    expect(getEntry.responseMessages).toContainEqual(
      expect.objectContaining({ kind: 'request', method: 'elicitation/create', id: elicitation.id }),
    );
    expect(proxy.log()).toContainEqual(
      expect.objectContaining({ sessionId: session.sessionId, rpcKind: 'response', rpcId: elicitation.id }),
    );
    await get.close();
    await session.terminate();
  });

  test('declined, it completes saying so; with inputRequired the task is input_required meanwhile', async () => {
    const session = new V1Session(proxy.url);
    await session.initialize();
    const get = await session.openGetStream();
    const created = await session.call('tools/call', {
      name: 'ask-outside',
      arguments: { inputRequired: true },
      ...TASK,
    });
    const taskId = created.task.taskId as string;
    const elicitation = await get.next((m) => m.method === 'elicitation/create');
    expect((await session.call('tasks/get', { taskId })).status).toBe('input_required');
    await session.respond(elicitation.id, { action: 'decline' });
    const result = await session.call('tasks/result', { taskId });
    expect(result.structuredContent).toEqual({ action: 'decline', content: null });
    await server.waitForStdout(new RegExp(`^ANSWERED ${taskId} decline$`, 'm'));
    await get.close();
    await session.terminate();
  });

  test('a client without the elicitation capability: the task completes with the failure', async () => {
    const session = new V1Session(proxy.url);
    await session.initialize({ capabilities: {} });
    const get = await session.openGetStream();
    const created = await session.call('tools/call', { name: 'ask-outside', arguments: {}, ...TASK });
    const taskId = created.task.taskId as string;
    const result = await session.call('tasks/result', { taskId });
    expect(result.structuredContent).toMatchObject({ action: 'error', error: expect.stringMatching(/elicitation/i) });
    await server.waitForStdout(new RegExp(`^ELICIT_FAILED ${taskId}$`, 'm'));
    await get.close();
    await session.terminate();
  });

  test('the official Client answers it from its elicitation/create handler, on the GET stream it opens itself', async () => {
    const client = new Client(
      { name: 'mcp-jobs-fault-proxy-test', version: '0.0.0' },
      { capabilities: { elicitation: { form: {} } } },
    );
    const asked: any[] = [];
    client.setRequestHandler('elicitation/create', async (request) => {
      asked.push(request.params);
      return { action: 'accept', content: { answer: 'from the handler' } };
    });
    const transport = new StreamableHTTPClientTransport(new URL(proxy.url));
    await client.connect(transport);
    try {
      // Same session, raw requests: the client only has to answer what comes on its GET stream.
      const raw = new V1Session(proxy.url);
      raw.sessionId = transport.sessionId;
      const created = await raw.call('tools/call', { name: 'ask-outside', arguments: {}, ...TASK });
      const result = await raw.call('tasks/result', { taskId: created.task.taskId });
      expect(result.structuredContent).toEqual({ action: 'accept', content: { answer: 'from the handler' } });
      expect(asked).toHaveLength(1);
      expect(asked[0].message).toBe('ask-outside: what is the answer?');
    } finally {
      await client.close().catch(() => {});
    }
  });

  /** An ext-tasks session whose onInputRequest answers every elicitation; records what it was asked and its errors. */
  async function extTasksSession(answer: string) {
    const client = new Client(
      { name: 'mcp-jobs-fault-proxy-test', version: '0.0.0' },
      { capabilities: { elicitation: { form: {} } } },
    );
    await client.connect(new StreamableHTTPClientTransport(new URL(proxy.url)));
    const asked: Array<{ kind: string; taskId?: string }> = [];
    const errors: Error[] = [];
    const session = createTaskSessionFromClient(client, {
      endpointId: 'ask-outside',
      onError: (error: Error) => errors.push(error),
      onInputRequest: (async (request: { kind: string }, context: { taskId?: string }) => {
        asked.push({ kind: request.kind, taskId: context.taskId });
        return { action: 'accept', content: { answer } };
      }) as never,
    });
    return {
      session,
      asked,
      errors,
      async close() {
        await session.close().catch(() => {});
        await client.close().catch(() => {});
      },
    };
  }

  test('ext-tasks 0.2.2 cannot tie a GET-stream elicitation without related-task _meta to the task: it answers cancel', async () => {
    const ext = await extTasksSession('never used');
    try {
      const execution = await ext.session.callTool('ask-outside', {}, { task: { preference: 'require' } });
      if (execution.kind !== 'task') throw new Error('expected a task');
      const { outcome } = await execution.settle();
      expect(outcome.status).toBe('completed');
      expect((outcome as any).result.structuredContent).toEqual({ action: 'cancel', content: null });
      expect(ext.asked).toEqual([]);
      expect(ext.errors.map((e) => [e.name, (e as any).reason])).toEqual([
        ['InputCorrelationError', 'missing-evidence'],
      ]);
    } finally {
      await ext.close();
    }
  });

  test('with relatedTaskMeta, ext-tasks ties it to the task and its onInputRequest answers it', async () => {
    const ext = await extTasksSession('correlated');
    try {
      const execution = await ext.session.callTool(
        'ask-outside',
        { relatedTaskMeta: true },
        { task: { preference: 'require' } },
      );
      if (execution.kind !== 'task') throw new Error('expected a task');
      const { outcome } = await execution.settle();
      expect(outcome.status).toBe('completed');
      expect((outcome as any).result.structuredContent).toEqual({
        action: 'accept',
        content: { answer: 'correlated' },
      });
      expect(ext.asked).toEqual([{ kind: 'elicitation', taskId: execution.handle.taskId }]);
    } finally {
      await ext.close();
    }
  });
});

describe('v1 fixture: no tasks.cancel capability, fast polling', () => {
  let server: RunningServer;

  beforeAll(async () => {
    server = await startFixtureServer({ pollIntervalMs: 20, noCancelCapability: true, statusEveryMs: 20 });
  });
  afterAll(async () => {
    await server?.stop();
  });

  test('capabilities.tasks has no cancel, and tasks/cancel still cancels', async () => {
    const session = new V1Session(server.url);
    const init = await session.initialize();
    expect(init.capabilities.tasks).toEqual({ list: {}, requests: { tools: { call: {} } } });
    const created = await session.call('tools/call', { name: 'until-cancelled', arguments: {}, ...TASK });
    const cancelled = await session.call('tasks/cancel', { taskId: created.task.taskId });
    expect(cancelled.status).toBe('cancelled');
    await server.waitForStdout(new RegExp(`^CANCELLED ${created.task.taskId}$`, 'm'));
    await session.terminate();
  });

  test('pollInterval 20 ms with a status every 20 ms: polling and the blocking tasks/result both work', async () => {
    const session = new V1Session(server.url);
    await session.initialize();
    const created = await session.call('tools/call', { name: 'slow', arguments: { durationMs: 600 }, ...TASK });
    const taskId = created.task.taskId as string;
    expect(created.task.pollInterval).toBe(20);
    const messages = new Set<string>();
    for (;;) {
      const task = await session.call('tasks/get', { taskId });
      if (task.statusMessage) messages.add(task.statusMessage);
      if (task.status !== 'working') break;
      await new Promise((resolve) => setTimeout(resolve, task.pollInterval));
    }
    // 600 ms in steps of 20 ms: 29 status updates, many of them seen while polling.
    expect((await fixtureTask(server, taskId))?.statusMessage).toBe('slow: step 29/29');
    expect(messages.size).toBeGreaterThan(2);
    const result = await session.call('tasks/result', { taskId });
    expect(result.structuredContent.durationMs).toBe(600);

    const second = await session.call('tools/call', { name: 'slow', arguments: { durationMs: 300 }, ...TASK });
    const blocking = await session.call('tasks/result', { taskId: second.task.taskId });
    expect(blocking.structuredContent.durationMs).toBe(300);
    await session.terminate();
  });
});

describe('v2 fixture: tasks persist across a restart (FIXTURE_STATE_FILE), behind the proxy', () => {
  let dir: string;
  let stateFile: string;
  let server: RunningServer;
  let proxy: FaultProxy;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mcp-jobs-v2-state-'));
    stateFile = path.join(dir, 'state.json');
    server = await startV2FixtureServer({ pollIntervalMs: 100, stateFile });
    proxy = await startFaultProxy(server.port);
  });
  afterAll(async () => {
    await proxy?.close();
    await server?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  /** tasks/get through the proxy (the v2 fixture checks MCP-Protocol-Version, Mcp-Method and Mcp-Name). */
  async function getTask(taskId: string): Promise<any> {
    const reply = await v2Request(proxy.url, 'tasks/get', { taskId });
    if (reply.status !== 200 || !reply.response?.result)
      throw new Error(`tasks/get: HTTP ${reply.status} ${reply.text}`);
    return reply.response.result;
  }

  async function untilStatus(taskId: string, status: string): Promise<any> {
    for (;;) {
      const task = await getTask(taskId);
      if (task.status === status) return task;
      if (['completed', 'failed', 'cancelled'].includes(task.status)) {
        throw new Error(`task ${taskId} ended ${task.status}, expected ${status}`);
      }
      await new Promise((resolve) => setTimeout(resolve, task.pollIntervalMs));
    }
  }

  async function createTask(name: string, args: Record<string, unknown>, capabilities?: Record<string, unknown>) {
    const reply = await v2Request(proxy.url, 'tools/call', { name, arguments: args }, { capabilities });
    expect(reply.response?.result?.resultType).toBe('task');
    return reply.response.result.taskId as string;
  }

  test('a running task resumes after the restart and completes on its schedule; ended tasks are kept', async () => {
    const finished = await createTask('slow', { durationMs: 20, text: 'before' });
    await untilStatus(finished, 'completed');
    const cancelled = await createTask('until-cancelled', {});
    expect((await v2Request(proxy.url, 'tasks/cancel', { taskId: cancelled })).status).toBe(200);
    const running = await createTask('slow', { durationMs: 1500, text: 'after the restart' });
    const createdAt = Date.parse((await getTask(running)).createdAt);
    expect(JSON.parse(fs.readFileSync(stateFile, 'utf8')).tasks.map((t: any) => t.taskId)).toEqual([
      finished,
      cancelled,
      running,
    ]);

    const port = server.port;
    await server.restart();
    expect(server.port).toBe(port);
    expect(server.stdout()).toContain(`RESUMED ${running} working`);
    expect(server.stdout()).not.toContain(`RESUMED ${finished}`);

    const done = await untilStatus(running, 'completed');
    expect(done.result.content).toEqual([{ type: 'text', text: 'after the restart' }]);
    // Measured from the original createdAt: the restart did not start the work over, nor skip it.
    expect(Date.parse(done.result.structuredContent.completedAt) - createdAt).toBeGreaterThanOrEqual(1500);
    expect((await getTask(finished)).result.content).toEqual([{ type: 'text', text: 'before' }]);
    expect((await getTask(cancelled)).status).toBe('cancelled');
  });

  test('input: an answer given before the restart is kept, the pending one is still asked and completes the task', async () => {
    const taskId = await createTask('multi_input', {}, { elicitation: {} });
    const asked = await untilStatus(taskId, 'input_required');
    expect(Object.keys(asked.inputRequests).sort()).toEqual(['first', 'second']);
    const first = await v2Request(proxy.url, 'tasks/update', {
      taskId,
      inputResponses: { first: { action: 'accept', content: { name: 'Ada' } } },
    });
    expect(first.status).toBe(200);

    await server.restart();
    expect(server.stdout()).toContain(`RESUMED ${taskId} input_required`);
    const still = await getTask(taskId);
    expect(still.status).toBe('input_required');
    expect(Object.keys(still.inputRequests)).toEqual(['second']);

    await v2Request(proxy.url, 'tasks/update', {
      taskId,
      inputResponses: { second: { action: 'accept', content: { confirm: true } } },
    });
    const done = await untilStatus(taskId, 'completed');
    expect(done.result.content[0].text).toBe(
      'multi_input: first accept {"name":"Ada"}; second accept {"confirm":true}',
    );
  });
});
