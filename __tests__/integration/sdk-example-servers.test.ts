/**
 * The official SDK 1.x example servers (`startSdkExampleServer`) as fault-test targets: they start on 127.0.0.1,
 * and what they offer and how they break is pinned down here (raw HTTP, partly through the fault proxy).
 */
import { startFaultProxy, type FaultProxy } from '../helpers/fault-proxy.js';
import { V1Session } from '../helpers/mcp-http.js';
import { startSdkExampleServer, type RunningServer } from '../helpers/servers.js';

const TASK = { task: { ttl: 60_000 } };

function toolTable(tools: Array<{ name: string; execution?: { taskSupport?: string } }>): Record<string, string> {
  return Object.fromEntries(tools.map((tool) => [tool.name, tool.execution?.taskSupport ?? '-']));
}

describe('SDK example simpleStreamableHttp', () => {
  let server: RunningServer;
  let proxy: FaultProxy;

  beforeAll(async () => {
    server = await startSdkExampleServer('simpleStreamableHttp');
    proxy = await startFaultProxy(server.port);
  });
  afterAll(async () => {
    await proxy?.close();
    await server?.stop();
  });

  test('listens on 127.0.0.1 and declares tasks for tools/call only (no tasks.cancel, no tasks.list)', async () => {
    expect(server.url).toBe(`http://127.0.0.1:${server.port}/mcp`);
    expect(server.stdout()).toContain(`MCP Streamable HTTP Server listening on port ${server.port}`);
    const session = new V1Session(server.url);
    const init = await session.initialize();
    expect(init.capabilities.tasks).toEqual({ requests: { tools: { call: {} } } });
    const { tools } = await session.call('tools/list');
    expect(toolTable(tools)).toEqual({
      greet: 'forbidden',
      'multi-greet': 'forbidden',
      'collect-user-info': 'forbidden',
      'collect-user-info-task': 'required',
      'start-notification-stream': 'forbidden',
      'list-files': 'forbidden',
      delay: 'required',
    });
    await session.terminate();
  });

  test('delay runs as a task and its status reaches the GET stream; after a cut, Last-Event-ID resumes nothing', async () => {
    const session = new V1Session(proxy.url);
    await session.initialize();
    const get = await session.openGetStream();
    const created = await session.call('tools/call', { name: 'delay', arguments: { duration: 200 }, ...TASK });
    expect(created.task).toMatchObject({ status: 'working', pollInterval: 1000 });
    const result = await session.call('tasks/result', { taskId: created.task.taskId });
    expect(result.content).toEqual([{ type: 'text', text: 'Completed 200ms delay' }]);
    await get.next((m) => m.method === 'notifications/tasks/status' && m.params.taskId === created.task.taskId);
    const lastSeen = get.eventIds.at(-1)!;
    expect(lastSeen).toMatch(/^_GET_stream_/);

    // Cut the GET stream; a task finishes while it is down.
    expect(proxy.cut((r) => r.httpMethod === 'GET' && r.sessionId === session.sessionId)).toBe(1);
    expect((await get.ended).error).toBeDefined();
    const missed = await session.call('tools/call', { name: 'delay', arguments: { duration: 50 }, ...TASK });
    await session.call('tasks/result', { taskId: missed.task.taskId });

    // Resuming with Last-Event-ID is accepted (200) but the example's InMemoryEventStore splits event ids on '_',
    // which the standalone stream id `_GET_stream` contains: nothing is replayed, and nothing new arrives on it.
    const resumed = await session.openGetStream({ lastEventId: lastSeen });
    expect(resumed.status).toBe(200);
    const reconnect = proxy.log().filter((r) => r.httpMethod === 'GET' && r.sessionId === session.sessionId)[1];
    expect(reconnect.lastEventId).toBe(lastSeen);
    const later = await session.call('tools/call', { name: 'delay', arguments: { duration: 50 }, ...TASK });
    await session.call('tasks/result', { taskId: later.task.taskId });
    // A fresh GET (no Last-Event-ID) is a live stream again: the next notification reaches it, and only it.
    const fresh = await session.openGetStream();
    expect(fresh.status).toBe(200);
    const last = await session.call('tools/call', { name: 'delay', arguments: { duration: 50 }, ...TASK });
    await session.call('tasks/result', { taskId: last.task.taskId });
    await fresh.next((m) => m.method === 'notifications/tasks/status' && m.params.taskId === last.task.taskId);
    expect(resumed.messages).toEqual([]);
    expect(resumed.isOpen).toBe(true);
    await resumed.close();
    await fresh.close();
    await session.terminate();
  });

  test('tasks/cancel cancels a delay task, and the server process dies when that delay ends', async () => {
    const own = await startSdkExampleServer('simpleStreamableHttp');
    try {
      const session = new V1Session(own.url);
      await session.initialize();
      const created = await session.call('tools/call', { name: 'delay', arguments: { duration: 300 }, ...TASK });
      const cancelled = await session.call('tasks/cancel', { taskId: created.task.taskId });
      expect(cancelled.status).toBe('cancelled');
      const result = await session.request('tasks/result', { taskId: created.task.taskId });
      expect(result.response.error).toMatchObject({ code: -32603, message: expect.stringMatching(/no result stored/) });
      const exit = await new Promise<number | null>((resolve) => {
        if (own.process.exitCode !== null) resolve(own.process.exitCode);
        else own.process.once('exit', (code) => resolve(code));
      });
      expect(exit).toBe(1);
      expect(own.stderr()).toContain('Cannot store result for task');
    } finally {
      await own.stop();
    }
  });
});

describe('SDK example simpleTaskInteractive', () => {
  let server: RunningServer;

  beforeAll(async () => {
    server = await startSdkExampleServer('simpleTaskInteractive');
  });
  afterAll(async () => {
    await server?.stop();
  });

  test('confirm_delete: its tasks/result sends the elicitation on the GET stream; the answer completes the task', async () => {
    expect(server.stdout()).toContain(`Starting server on http://localhost:${server.port}/mcp`);
    const session = new V1Session(server.url);
    const init = await session.initialize();
    expect(init.capabilities.tasks).toEqual({ requests: { tools: { call: {} } } });
    const { tools } = await session.call('tools/list');
    expect(toolTable(tools)).toEqual({ confirm_delete: 'required', write_haiku: 'required' });

    const get = await session.openGetStream();
    const created = await session.call('tools/call', {
      name: 'confirm_delete',
      arguments: { filename: 'a.txt' },
      ...TASK,
    });
    const taskId = created.task.taskId as string;
    expect(created.task.status).toBe('input_required');
    const blocking = await session.stream('tasks/result', { taskId });
    const elicitation = await get.next((m) => m.method === 'elicitation/create');
    expect(elicitation.params.message).toBe("Are you sure you want to delete 'a.txt'?");
    expect(elicitation.params._meta['io.modelcontextprotocol/related-task']).toEqual({ taskId });
    expect(await session.respond(elicitation.id, { action: 'accept', content: { confirm: true } })).toBe(202);
    const final = await blocking.stream.next((m) => m.id === blocking.id);
    expect(final.result.content).toEqual([{ type: 'text', text: "Deleted 'a.txt'" }]);
    expect(blocking.stream.messages.some((m) => m.method === 'elicitation/create')).toBe(false);

    const cancel = await session.request('tasks/cancel', { taskId });
    expect(cancel.response.error.code).toBe(-32601);
    await get.close();
    await session.terminate();
  });
});
