/**
 * Smoke test of the test servers: the v1 task fixture (all modes) and the real server-everything,
 * driven through the official client (@modelcontextprotocol/client + ext-tasks).
 */
import os from 'node:os';
import net from 'node:net';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import {
  createTaskSessionFromClient,
  TaskFailedError,
  type TaskEnabledSession,
} from '@modelcontextprotocol/ext-tasks/client';
import {
  fixtureTask,
  fixtureTasks,
  startEverythingServer,
  startFixtureServer,
  type RunningServer,
} from '../helpers/servers.js';

interface Connected {
  client: Client;
  session: TaskEnabledSession;
  close(): Promise<void>;
}

async function connect(url: string): Promise<Connected> {
  const client = new Client({ name: 'mcp-jobs-smoke', version: '0.0.0' });
  await client.connect(new StreamableHTTPClientTransport(new URL(url)));
  const session = createTaskSessionFromClient(client, { endpointId: 't' });
  return {
    client,
    session,
    async close() {
      await session.close().catch(() => {});
      await client.close().catch(() => {});
    },
  };
}

async function until<T>(probe: () => Promise<T | undefined>, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const REQUIRE = { task: { preference: 'require' } } as const;

interface TextResult {
  content: Array<{ type: string; text?: string }>;
  structuredContent?: Record<string, unknown>;
  isError?: boolean;
}

describe('v1 task fixture server (normal mode)', () => {
  let server: RunningServer;
  let conn: Connected;

  beforeAll(async () => {
    server = await startFixtureServer();
    conn = await connect(server.url);
  });
  afterAll(async () => {
    await conn?.close();
    await server?.stop();
  });

  test('listens on loopback and advertises the 2025-11-25 tasks capability and per-tool task support', async () => {
    expect(server.url).toBe(`http://127.0.0.1:${server.port}/mcp`);
    expect(server.stdout().match(/^LISTENING \d+$/gm)).toEqual([`LISTENING ${server.port}`]);
    expect(conn.client.getServerCapabilities()?.tasks).toEqual({
      list: {},
      cancel: {},
      requests: { tools: { call: {} } },
    });
    const { tools } = await conn.client.listTools();
    const support = Object.fromEntries(tools.map((tool) => [tool.name, tool.execution?.taskSupport]));
    expect(support).toEqual({
      slow: 'required',
      fail: 'required',
      'until-cancelled': 'required',
      'optional-task': 'optional',
      'no-task': 'forbidden',
      'big-result': 'required',
      'ask-outside': 'required',
    });
    expect(conn.session.capabilities).toMatchObject({ execution: true, cancellation: true, inventory: 'server-list' });
  });

  test('slow completes as a task with structured content stamped at the server completion time', async () => {
    const execution = await conn.session.callTool(
      'slow',
      { durationMs: 800, text: 'hello', statusMessages: 2 },
      REQUIRE,
    );
    expect(execution.kind).toBe('task');
    if (execution.kind !== 'task') return;
    const taskId = execution.handle.taskId;
    const { outcome } = await execution.settle();
    expect(outcome.status).toBe('completed');
    if (outcome.status !== 'completed') return;
    const result = outcome.result as TextResult;
    expect(result.content).toEqual([{ type: 'text', text: 'hello' }]);
    expect(result.structuredContent?.durationMs).toBe(800);

    const completedLine = await server.waitForStdout(new RegExp(`^COMPLETED ${taskId} (\\d+)$`, 'm'));
    const completedAtMs = Number(completedLine[1]);
    expect(result.structuredContent?.completedAt).toBe(new Date(completedAtMs).toISOString());

    const held = await fixtureTask(server, taskId);
    expect(held).toMatchObject({ status: 'completed', tool: 'slow', statusMessage: 'slow: step 2/2' });
    expect(completedAtMs - Date.parse(held!.createdAt)).toBeGreaterThanOrEqual(790);
    expect(held!.sessionId).toEqual(expect.any(String));
  });

  test('fail ends failed and keeps the failure on the server', async () => {
    const execution = await conn.session.callTool(
      'fail',
      { message: 'boom', delayMs: 50, statusMessage: 'disk on fire' },
      REQUIRE,
    );
    expect(execution.kind).toBe('task');
    if (execution.kind !== 'task') return;
    const { outcome } = await execution.settle();
    expect(outcome.status).toBe('failed');
    if (outcome.status !== 'failed') return;
    expect(outcome.error).toBeInstanceOf(TaskFailedError);
    expect(outcome.error.message).toContain('disk on fire');
    expect(await fixtureTask(server, execution.handle.taskId)).toMatchObject({ status: 'failed', tool: 'fail' });
    expect(server.stdout()).toMatch(new RegExp(`^FAILED ${execution.handle.taskId} \\d+$`, 'm'));
  });

  test('until-cancelled keeps working until tasks/cancel, then stays cancelled without crashing the server', async () => {
    const execution = await conn.session.callTool('until-cancelled', {}, REQUIRE);
    expect(execution.kind).toBe('task');
    if (execution.kind !== 'task') return;
    const taskId = execution.handle.taskId;
    // Periodic status updates prove the task is alive and working.
    await until(
      async () => ((await fixtureTask(server, taskId))?.statusMessage?.includes('still working') ? true : undefined),
      3000,
      'a periodic status update',
    );
    await execution.detach();

    const controller = conn.session.task(taskId);
    await controller.cancel();
    expect((await controller.snapshot()).status).toBe('cancelled');
    expect(await fixtureTask(server, taskId)).toMatchObject({ status: 'cancelled' });
    expect(server.stdout()).toMatch(new RegExp(`^CANCELLED ${taskId}$`, 'm'));

    // Let the 500 ms status timer fire again: the task must stay cancelled and the server alive.
    await new Promise((resolve) => setTimeout(resolve, 700));
    expect(server.process.exitCode).toBeNull();
    expect(await fixtureTask(server, taskId)).toMatchObject({
      status: 'cancelled',
      statusMessage: 'Client cancelled task execution.',
    });
    expect(server.stderr()).not.toMatch(/uncaught|unhandled/i);
  });

  test('tasks are bound to the session that created them', async () => {
    const execution = await conn.session.callTool('slow', { durationMs: 50, statusMessages: 0 }, REQUIRE);
    if (execution.kind !== 'task') throw new Error('expected a task');
    await execution.settle();
    const other = await connect(server.url);
    try {
      await expect(other.session.task(execution.handle.taskId).snapshot()).rejects.toThrow();
    } finally {
      await other.close();
    }
    expect((await conn.session.task(execution.handle.taskId).snapshot()).status).toBe('completed');
    expect((await fixtureTasks(server)).length).toBeGreaterThanOrEqual(4);
  });

  test('task support is enforced: required needs a task, optional runs immediately without one', async () => {
    await expect(conn.client.callTool({ name: 'slow', arguments: { durationMs: 1 } })).rejects.toMatchObject({
      code: -32601,
    });
    const immediate = await conn.session.callTool('optional-task', {}, { task: { preference: 'forbid' } });
    expect(immediate.kind).toBe('immediate');
    const { outcome } = await immediate.settle();
    expect(outcome.status === 'completed' && (outcome.result as TextResult).structuredContent).toEqual({
      mode: 'immediate',
    });
    const plain = await conn.client.callTool({ name: 'no-task', arguments: {} });
    expect(plain.content).toEqual([{ type: 'text', text: 'no-task done' }]);
  });

  test('big-result completes with a text block of the requested size', async () => {
    const bytes = 3 * 1024 * 1024;
    const execution = await conn.session.callTool('big-result', { bytes }, REQUIRE);
    expect(execution.kind).toBe('task');
    const { outcome } = await execution.settle();
    expect(outcome.status).toBe('completed');
    const text = outcome.status === 'completed' ? (outcome.result as TextResult).content[0]?.text : undefined;
    expect(text?.length).toBe(bytes);
  });
});

describe('v1 task fixture server (broken modes)', () => {
  const started: RunningServer[] = [];
  afterAll(async () => {
    await Promise.all(started.map((server) => server.stop()));
  });

  test('no-tasks advertises no tasks capability and no task support; tools run immediately', async () => {
    const server = await startFixtureServer({ mode: 'no-tasks' });
    started.push(server);
    const conn = await connect(server.url);
    try {
      const capabilities = conn.client.getServerCapabilities();
      expect(capabilities?.tools).toBeDefined();
      expect(capabilities).not.toHaveProperty('tasks');
      const { tools } = await conn.client.listTools();
      expect(tools.map((tool) => tool.name).sort()).toEqual([
        'big-result',
        'fail',
        'no-task',
        'optional-task',
        'slow',
        'until-cancelled',
      ]);
      expect(tools.filter((tool) => tool.execution !== undefined)).toEqual([]);
      expect(conn.session.capabilities.execution).toBe(false);
      const execution = await conn.session.callTool(
        'slow',
        { durationMs: 20, text: 'sync' },
        { task: { preference: 'allow' } },
      );
      expect(execution.kind).toBe('immediate');
      const { outcome } = await execution.settle();
      expect(outcome.status === 'completed' && (outcome.result as TextResult).content).toEqual([
        { type: 'text', text: 'sync' },
      ]);
    } finally {
      await conn.close();
    }
  });

  test('bad-json answers POST /mcp with a body that is not JSON', async () => {
    const server = await startFixtureServer({ mode: 'bad-json' });
    started.push(server);
    const response = await fetch(server.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping' }),
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    const body = await response.text();
    expect(() => JSON.parse(body)).toThrow(SyntaxError);
    const client = new Client({ name: 'mcp-jobs-smoke', version: '0.0.0' });
    await expect(client.connect(new StreamableHTTPClientTransport(new URL(server.url)))).rejects.toThrow();
    await client.close().catch(() => {});
  });

  test('bad-schema initializes normally but answers tools/call with a schema-violating result', async () => {
    const server = await startFixtureServer({ mode: 'bad-schema' });
    started.push(server);
    const conn = await connect(server.url);
    try {
      expect(conn.client.getServerCapabilities()?.tasks).toBeDefined();
      await expect(conn.session.callTool('slow', { durationMs: 10 }, REQUIRE)).rejects.toThrow();
      expect(await fixtureTasks(server)).toEqual([]);
    } finally {
      await conn.close();
    }
  });
});

describe('server-everything (real npm server)', () => {
  let server: RunningServer;
  let conn: Connected;

  beforeAll(async () => {
    server = await startEverythingServer();
    conn = await connect(server.url);
  });
  afterAll(async () => {
    await conn?.close();
    await server?.stop();
  });

  test('listens on 127.0.0.1 only', async () => {
    const external = Object.values(os.networkInterfaces())
      .flat()
      .find((address) => address && !address.internal && address.family === 'IPv4');
    if (!external) return; // no non-loopback interface to probe
    const reachable = await new Promise<boolean>((resolve) => {
      const socket = net.connect({ host: external.address, port: server.port });
      socket.setTimeout(1000, () => {
        socket.destroy();
        resolve(false);
      });
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    expect(reachable).toBe(false);
  });

  test('simulate-research-query completes as a task', async () => {
    expect(conn.client.getServerCapabilities()?.tasks?.requests).toEqual({ tools: { call: {} } });
    const statuses: string[] = [];
    const execution = await conn.session.callTool('simulate-research-query', { topic: 'loopback fixtures' }, REQUIRE);
    expect(execution.kind).toBe('task');
    const { outcome } = await execution.settle({
      onEvent: (event) => {
        if (event.type === 'task') statuses.push(event.task.status);
      },
    });
    expect(outcome.status).toBe('completed');
    const text = outcome.status === 'completed' ? (outcome.result as TextResult).content[0]?.text : undefined;
    expect(text).toContain('# Research Report: loopback fixtures');
    expect(statuses[0]).toBe('working');
  }, 20_000);
});
