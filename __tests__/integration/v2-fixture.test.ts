/**
 * Wire-level tests of the v2 task fixture (`__tests__/fixtures/v2-task-server.mjs`): protocol 2026-07-28
 * (stateless, per-request `_meta`) with the tasks extension `io.modelcontextprotocol/tasks` (SEP-2663).
 * Every request is raw JSON-RPC over fetch, so the exact wire shapes are what is asserted. A last block
 * checks that the official client libraries (@modelcontextprotocol/client 2.4.0, ext-tasks 0.2.2) work with it.
 */
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { createTaskSessionFromClient, type RawClientDispatch } from '@modelcontextprotocol/ext-tasks/client';
import { startV2FixtureServer, v2FixtureTasks, type RunningServer } from '../helpers/servers.js';

const PROTOCOL_VERSION = '2026-07-28';
const TASKS = 'io.modelcontextprotocol/tasks';
const META_VERSION = 'io.modelcontextprotocol/protocolVersion';
const META_CLIENT_INFO = 'io.modelcontextprotocol/clientInfo';
const META_CAPABILITIES = 'io.modelcontextprotocol/clientCapabilities';
const META_SERVER_INFO = 'io.modelcontextprotocol/serverInfo';
const META_SUBSCRIPTION_ID = 'io.modelcontextprotocol/subscriptionId';
const POLL_INTERVAL_MS = 250;
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;

interface Wire {
  status: number;
  headers: Headers;
  body: any;
}

interface RpcOptions {
  /** Opt in to the tasks extension on this request (default true). */
  tasks?: boolean;
  /** More client capabilities for `_meta["io.modelcontextprotocol/clientCapabilities"]`. */
  capabilities?: Record<string, unknown>;
  /** Replaces `_meta` (`null`: no `_meta` at all). */
  meta?: Record<string, unknown> | null;
  /** Header overrides; `null` removes the header. */
  headers?: Record<string, string | null>;
  id?: number | string;
}

let nextId = 1;

function metaFor(opts: RpcOptions): Record<string, unknown> {
  const capabilities: Record<string, unknown> = { ...opts.capabilities };
  if (opts.tasks !== false) capabilities.extensions = { [TASKS]: {} };
  return {
    [META_VERSION]: PROTOCOL_VERSION,
    [META_CLIENT_INFO]: { name: 'v2-fixture-test', version: '0.0.0' },
    [META_CAPABILITIES]: capabilities,
  };
}

/** Headers a 2026-07-28 client sends: MCP-Protocol-Version, Mcp-Method, Mcp-Name (tools/call name, tasks/* taskId). */
function headersFor(method: string, params: Record<string, unknown>, overrides: RpcOptions['headers'] = {}) {
  const headers: Record<string, string> = {
    'Content-Type': 'application/json',
    Accept: 'application/json, text/event-stream',
    'MCP-Protocol-Version': PROTOCOL_VERSION,
    'Mcp-Method': method,
  };
  const source = { 'tools/call': 'name', 'tasks/get': 'taskId', 'tasks/update': 'taskId', 'tasks/cancel': 'taskId' }[
    method
  ];
  if (source && typeof params[source] === 'string') headers['Mcp-Name'] = params[source] as string;
  for (const [name, value] of Object.entries(overrides)) {
    for (const key of Object.keys(headers)) if (key.toLowerCase() === name.toLowerCase()) delete headers[key];
    if (value !== null) headers[name] = value;
  }
  return headers;
}

async function post(url: string, body: unknown, headers: Record<string, string>, method = 'POST'): Promise<Wire> {
  const response = await fetch(url, { method, headers, body: method === 'POST' ? JSON.stringify(body) : undefined });
  const text = await response.text();
  let parsed: unknown;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = text;
  }
  return { status: response.status, headers: response.headers, body: parsed };
}

function rpc(url: string, method: string, params: Record<string, unknown> = {}, opts: RpcOptions = {}): Promise<Wire> {
  const fullParams = opts.meta === null ? params : { ...params, _meta: opts.meta ?? metaFor(opts) };
  const body = { jsonrpc: '2.0', id: opts.id ?? nextId++, method, params: fullParams };
  return post(url, body, headersFor(method, params, opts.headers));
}

/** The result of a successful response (HTTP 200, no error). */
function resultOf(wire: Wire): any {
  expect(wire.body?.error).toBeUndefined();
  expect(wire.status).toBe(200);
  return wire.body.result;
}

function expectError(wire: Wire, code: number, httpStatus: number): any {
  expect(wire.body?.result).toBeUndefined();
  expect(wire.body?.error?.code).toBe(code);
  expect(typeof wire.body.error.message).toBe('string');
  expect(wire.status).toBe(httpStatus);
  return wire.body.error;
}

/** fetch whose `Response.json()` parses with this realm's JSON (see the ext-tasks test below). */
const sameRealmJsonFetch: typeof fetch = async (input, init) => {
  const response = await fetch(input, init);
  return Object.assign(response, { json: async () => JSON.parse(await response.text()) });
};

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

describe('v2 task fixture (2026-07-28 + io.modelcontextprotocol/tasks)', () => {
  let server: RunningServer;
  let url: string;

  beforeAll(async () => {
    server = await startV2FixtureServer({ pollIntervalMs: POLL_INTERVAL_MS });
    url = server.url;
  });

  afterAll(async () => {
    await server?.stop();
  });

  const createTask = async (name: string, args: Record<string, unknown> = {}, opts: RpcOptions = {}) => {
    const created = resultOf(await rpc(url, 'tools/call', { name, arguments: args }, opts));
    expect(created.resultType).toBe('task');
    return created as { taskId: string; status: string; [key: string]: unknown };
  };
  const getTask = async (taskId: string) => resultOf(await rpc(url, 'tasks/get', { taskId }));
  const waitForStatus = async (taskId: string, statuses: string[], timeoutMs = 5000) => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const task = await getTask(taskId);
      if (statuses.includes(task.status)) return task;
      if (Date.now() > deadline) throw new Error(`task ${taskId} is still ${task.status}, expected ${statuses}`);
      await delay(40);
    }
  };

  describe('discovery and the per-request envelope', () => {
    it('server/discover advertises 2026-07-28 and the tasks extension', async () => {
      const result = resultOf(await rpc(url, 'server/discover', {}, { tasks: false }));
      expect(result).toEqual({
        resultType: 'complete',
        supportedVersions: ['2026-07-28'],
        capabilities: { tools: {}, extensions: { [TASKS]: {} } },
        instructions: expect.any(String),
        ttlMs: 0,
        cacheScope: 'private',
        _meta: { [META_SERVER_INFO]: { name: 'mcp-jobs-v2-task-fixture', version: '1.0.0' } },
      });
    });

    it('tools/list lists the fixture tools (no per-tool task declaration on this wire)', async () => {
      const result = resultOf(await rpc(url, 'tools/list'));
      const names = result.tools.map((tool: { name: string }) => tool.name);
      expect(names).toEqual(
        expect.arrayContaining([
          'slow',
          'fail',
          'is-error',
          'needs-input',
          'until-cancelled',
          'ignores-cancel',
          'no-task',
        ]),
      );
      for (const tool of result.tools) {
        expect(tool.inputSchema.type).toBe('object');
        expect(tool.execution).toBeUndefined();
      }
      expect(result).toMatchObject({ resultType: 'complete', ttlMs: 0, cacheScope: 'private' });
    });

    it('rejects a request without _meta, or without protocolVersion / clientCapabilities: 400, -32602, id echoed', async () => {
      const noMeta = await rpc(url, 'tools/list', {}, { meta: null, id: 'no-meta' });
      expectError(noMeta, -32602, 400);
      expect(noMeta.body.id).toBe('no-meta');
      const meta = metaFor({});
      const { [META_VERSION]: _v, ...withoutVersion } = meta;
      expectError(await rpc(url, 'tools/list', {}, { meta: withoutVersion }), -32602, 400);
      const { [META_CAPABILITIES]: _c, ...withoutCapabilities } = meta;
      expectError(await rpc(url, 'tools/list', {}, { meta: withoutCapabilities }), -32602, 400);
      // clientInfo is only a SHOULD
      const { [META_CLIENT_INFO]: _i, ...withoutInfo } = meta;
      resultOf(await rpc(url, 'tools/list', {}, { meta: withoutInfo }));
    });

    it('checks MCP-Protocol-Version: missing or different from _meta → -32020, unsupported → -32022 (HTTP 400)', async () => {
      expectError(await rpc(url, 'tools/list', {}, { headers: { 'MCP-Protocol-Version': null } }), -32020, 400);
      expectError(await rpc(url, 'tools/list', {}, { headers: { 'MCP-Protocol-Version': '2099-01-01' } }), -32020, 400);
      const unsupported = await rpc(
        url,
        'server/discover',
        {},
        { meta: { ...metaFor({}), [META_VERSION]: '2099-01-01' }, headers: { 'MCP-Protocol-Version': '2099-01-01' } },
      );
      expect(expectError(unsupported, -32022, 400).data).toEqual({
        supported: ['2026-07-28'],
        requested: '2099-01-01',
      });
    });

    it('checks Mcp-Method and Mcp-Name against the body (-32020, HTTP 400); accepts the base64 sentinel', async () => {
      expectError(await rpc(url, 'tools/list', {}, { headers: { 'Mcp-Method': null } }), -32020, 400);
      expectError(await rpc(url, 'tools/list', {}, { headers: { 'Mcp-Method': 'tools/call' } }), -32020, 400);
      const call = { name: 'no-task', arguments: {} };
      expectError(await rpc(url, 'tools/call', call, { headers: { 'Mcp-Name': null } }), -32020, 400);
      expectError(await rpc(url, 'tools/call', call, { headers: { 'Mcp-Name': 'slow' } }), -32020, 400);
      const encoded = `=?base64?${Buffer.from('no-task').toString('base64')}?=`;
      expect(resultOf(await rpc(url, 'tools/call', call, { headers: { 'Mcp-Name': encoded } })).resultType).toBe(
        'complete',
      );
    });

    it('answers a legacy initialize with -32022 naming the supported versions; initialize with an envelope is -32601/404', async () => {
      const legacy = await post(
        url,
        {
          jsonrpc: '2.0',
          id: 0,
          method: 'initialize',
          params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'old', version: '1' } },
        },
        { 'Content-Type': 'application/json', Accept: 'application/json, text/event-stream' },
      );
      const error = expectError(legacy, -32022, 400);
      expect(error.data).toEqual({ supported: ['2026-07-28'], requested: '2025-11-25' });
      expect(error.message).toContain('2026-07-28');
      expect(legacy.body.id).toBe(0);
      expectError(await rpc(url, 'initialize', {}), -32601, 404);
      expectError(await rpc(url, 'ping', {}), -32601, 404);
    });

    it('has no tasks/result and no tasks/list (-32601, HTTP 404)', async () => {
      expectError(await rpc(url, 'tasks/result', { taskId: 'x' }), -32601, 404);
      expectError(await rpc(url, 'tasks/list', {}), -32601, 404);
    });

    it('is stateless HTTP: GET/DELETE → 405, notifications → 202, batches → 400, non-loopback Host → 403', async () => {
      expect((await post(url, undefined, {}, 'GET')).status).toBe(405);
      expect((await post(url, undefined, {}, 'DELETE')).status).toBe(405);
      const notification = await post(
        url,
        { jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 1 } },
        headersFor('notifications/cancelled', {}),
      );
      expect(notification.status).toBe(202);
      const batch = await post(url, [{ jsonrpc: '2.0', id: 1, method: 'tools/list' }], headersFor('tools/list', {}));
      expect(batch.status).toBe(400);
      const evil = await post(
        url,
        { jsonrpc: '2.0', id: 1, method: 'tools/list', params: { _meta: metaFor({}) } },
        { ...headersFor('tools/list', {}), Origin: 'http://evil.example.com' },
      );
      expect(evil.status).toBe(403);
    });
  });

  describe('server-directed task creation', () => {
    it('slow: flat CreateTaskResult, tasks/get while working, then completed with the result inlined', async () => {
      const created = await createTask('slow', { durationMs: 400, text: 'hello' });
      expect(Object.keys(created).sort()).toEqual(
        [
          '_meta',
          'createdAt',
          'lastUpdatedAt',
          'pollIntervalMs',
          'resultType',
          'status',
          'statusMessage',
          'taskId',
          'ttlMs',
        ].sort(),
      );
      expect(created).toMatchObject({ status: 'working', ttlMs: 3_600_000, pollIntervalMs: POLL_INTERVAL_MS });
      expect(created.createdAt).toMatch(ISO);
      expect(created.lastUpdatedAt).toMatch(ISO);
      await server.waitForStdout(new RegExp(`^CREATED ${created.taskId} slow$`, 'm'));

      // Durable before the reply: tasks/get right away resolves, without payload fields while working.
      const working = await getTask(created.taskId);
      expect(working).toMatchObject({ resultType: 'complete', taskId: created.taskId, status: 'working' });
      expect(working).not.toHaveProperty('result');
      expect(working).not.toHaveProperty('error');
      expect(working).not.toHaveProperty('inputRequests');

      const [, epochMs] = await server.waitForStdout(new RegExp(`^COMPLETED ${created.taskId} (\\d+)$`, 'm'), 5000);
      const done = await getTask(created.taskId);
      expect(done).toMatchObject({ status: 'completed', statusMessage: 'Completed' });
      expect(done.result).toEqual({
        resultType: 'complete',
        content: [{ type: 'text', text: 'hello' }],
        structuredContent: { durationMs: 400, completedAt: new Date(Number(epochMs)).toISOString() },
      });
      expect(done.lastUpdatedAt).toBe(new Date(Number(epochMs)).toISOString());
      expect(done.error).toBeUndefined();
    });

    it('slow reports status messages while it works', async () => {
      const created = await createTask('slow', { durationMs: 600, statusMessages: 2 });
      await delay(250);
      expect((await getTask(created.taskId)).statusMessage).toMatch(/^slow: step \d\/2$/);
      await waitForStatus(created.taskId, ['completed']);
    });

    it('an optional tool without the opt-in runs synchronously (no task)', async () => {
      const result = resultOf(
        await rpc(url, 'tools/call', { name: 'slow', arguments: { durationMs: 50 } }, { tasks: false }),
      );
      expect(result).toMatchObject({ resultType: 'complete', content: [{ type: 'text', text: 'done' }] });
      expect(result.structuredContent.completedAt).toMatch(ISO);
      expect(result).not.toHaveProperty('taskId');
    });

    it('no-task answers immediately even when the request opts in', async () => {
      const result = resultOf(await rpc(url, 'tools/call', { name: 'no-task', arguments: {} }));
      expect(result).toMatchObject({ resultType: 'complete', content: [{ type: 'text', text: 'no-task: done' }] });
      expect(result).not.toHaveProperty('taskId');
    });

    it('a task-required tool without the opt-in is -32021 naming the extension (HTTP 400)', async () => {
      const error = expectError(
        await rpc(url, 'tools/call', { name: 'until-cancelled', arguments: {} }, { tasks: false }),
        -32021,
        400,
      );
      expect(error.data).toEqual({ requiredCapabilities: { extensions: { [TASKS]: {} } } });
    });

    it('unknown tools and bad arguments are -32602', async () => {
      expectError(await rpc(url, 'tools/call', { name: 'nope', arguments: {} }), -32602, 200);
      expectError(await rpc(url, 'tools/call', { name: 'slow', arguments: { durationMs: 'x' } }), -32602, 200);
    });
  });

  describe('terminal shapes', () => {
    it('fail: failed with the JSON-RPC error inlined (and no result)', async () => {
      const created = await createTask('fail', { message: 'boom', delayMs: 50 });
      const [, epochMs] = await server.waitForStdout(new RegExp(`^FAILED ${created.taskId} (\\d+)$`, 'm'));
      const failed = await getTask(created.taskId);
      expect(failed).toMatchObject({ status: 'failed', statusMessage: 'Tool execution failed: boom' });
      expect(failed.error).toEqual({ code: -32603, message: 'boom', data: { tool: 'fail' } });
      expect(failed).not.toHaveProperty('result');
      expect(failed.lastUpdatedAt).toBe(new Date(Number(epochMs)).toISOString());
    });

    it('fail without the opt-in is that JSON-RPC error, synchronously', async () => {
      const error = expectError(
        await rpc(url, 'tools/call', { name: 'fail', arguments: { message: 'now', delayMs: 0 } }, { tasks: false }),
        -32603,
        200,
      );
      expect(error.message).toBe('now');
    });

    it('is-error: a tool error result is `completed` with isError: true', async () => {
      const created = await createTask('is-error', { message: 'bad input' });
      await server.waitForStdout(new RegExp(`^COMPLETED ${created.taskId} \\d+$`, 'm'));
      const done = await getTask(created.taskId);
      expect(done.status).toBe('completed');
      expect(done.result).toEqual({
        resultType: 'complete',
        content: [{ type: 'text', text: 'bad input' }],
        isError: true,
      });
    });
  });

  describe('input_required and tasks/update', () => {
    it('needs-input needs the elicitation capability as well as the opt-in (-32021)', async () => {
      const noElicitation = expectError(
        await rpc(url, 'tools/call', { name: 'needs-input', arguments: {} }),
        -32021,
        400,
      );
      expect(noElicitation.data).toEqual({ requiredCapabilities: { elicitation: {} } });
      const neither = expectError(
        await rpc(url, 'tools/call', { name: 'needs-input', arguments: {} }, { tasks: false }),
        -32021,
        400,
      );
      expect(neither.data).toEqual({ requiredCapabilities: { elicitation: {}, extensions: { [TASKS]: {} } } });
    });

    it('needs-input: inputRequests on tasks/get, tasks/update acks, the answer is echoed in the result', async () => {
      const created = await createTask('needs-input', {}, { capabilities: { elicitation: {} } });
      await server.waitForStdout(new RegExp(`^INPUT_REQUIRED ${created.taskId}$`, 'm'));
      const waiting = await getTask(created.taskId);
      expect(waiting.status).toBe('input_required');
      expect(waiting.inputRequests).toEqual({
        confirm: {
          method: 'elicitation/create',
          params: {
            mode: 'form',
            message: 'needs-input: confirm to continue',
            requestedSchema: {
              type: 'object',
              properties: { confirm: { type: 'boolean', title: 'Confirm', description: 'Continue?' } },
              required: ['confirm'],
            },
          },
        },
      });
      // Same snapshot on the next poll (keys are stable).
      expect((await getTask(created.taskId)).inputRequests).toEqual(waiting.inputRequests);

      // An invalid response to an outstanding key is -32602; responses to unknown keys are ignored.
      expectError(
        await rpc(url, 'tasks/update', { taskId: created.taskId, inputResponses: { confirm: 42 } }),
        -32602,
        200,
      );
      const ignored = resultOf(
        await rpc(url, 'tasks/update', { taskId: created.taskId, inputResponses: { other: { action: 'accept' } } }),
      );
      expect(ignored.resultType).toBe('complete');
      expect((await getTask(created.taskId)).status).toBe('input_required');

      const ack = resultOf(
        await rpc(url, 'tasks/update', {
          taskId: created.taskId,
          inputResponses: { confirm: { action: 'accept', content: { confirm: true } } },
        }),
      );
      expect(Object.keys(ack).sort()).toEqual(['_meta', 'resultType']);
      expect(ack.resultType).toBe('complete');
      await server.waitForStdout(new RegExp(`^COMPLETED ${created.taskId} \\d+$`, 'm'));
      const done = await getTask(created.taskId);
      expect(done.result).toEqual({
        resultType: 'complete',
        content: [{ type: 'text', text: 'needs-input received: accept {"confirm":true}' }],
        structuredContent: { answer: { action: 'accept', content: { confirm: true } } },
      });
      expect(done).not.toHaveProperty('inputRequests');
    });
  });

  describe('tasks/cancel', () => {
    it('until-cancelled: empty ack, then cancelled; cancelling a terminal task acks again', async () => {
      const created = await createTask('until-cancelled');
      expect((await getTask(created.taskId)).status).toBe('working');
      const ack = resultOf(await rpc(url, 'tasks/cancel', { taskId: created.taskId }));
      expect(Object.keys(ack).sort()).toEqual(['_meta', 'resultType']);
      await server.waitForStdout(new RegExp(`^CANCELLED ${created.taskId}$`, 'm'));
      const cancelled = await getTask(created.taskId);
      expect(cancelled.status).toBe('cancelled');
      expect(cancelled).not.toHaveProperty('result');
      expect(cancelled).not.toHaveProperty('error');
      expect(resultOf(await rpc(url, 'tasks/cancel', { taskId: created.taskId })).resultType).toBe('complete');
      expect((await v2FixtureTasks(server)).find((task) => task.taskId === created.taskId)).toMatchObject({
        status: 'cancelled',
        tool: 'until-cancelled',
        cancelRequested: true,
      });
    });

    it('ignores-cancel: the cancel is acknowledged but the task completes', async () => {
      const created = await createTask('ignores-cancel', { durationMs: 500 });
      resultOf(await rpc(url, 'tasks/cancel', { taskId: created.taskId }));
      await server.waitForStdout(new RegExp(`^CANCEL_REQUESTED ${created.taskId}$`, 'm'));
      expect(await getTask(created.taskId)).toMatchObject({
        status: 'working',
        statusMessage: 'Cancellation requested; the tool finishes its work anyway',
      });
      await server.waitForStdout(new RegExp(`^COMPLETED ${created.taskId} \\d+$`, 'm'));
      const done = await getTask(created.taskId);
      expect(done.status).toBe('completed');
      expect(done.result.structuredContent).toEqual({ durationMs: 500, cancelRequested: true });
      expect(server.stdout()).not.toContain(`CANCELLED ${created.taskId}`);
    });
  });

  describe('task request rules', () => {
    it('tasks/get, tasks/update and tasks/cancel need the opt-in (-32021, HTTP 400), even for unknown ids', async () => {
      const created = await createTask('slow', { durationMs: 100 });
      for (const [method, params] of [
        ['tasks/get', { taskId: created.taskId }],
        ['tasks/update', { taskId: created.taskId, inputResponses: {} }],
        ['tasks/cancel', { taskId: 'unknown' }],
      ] as const) {
        const error = expectError(await rpc(url, method, params, { tasks: false }), -32021, 400);
        expect(error.data).toEqual({ requiredCapabilities: { extensions: { [TASKS]: {} } } });
      }
    });

    it('unknown task ids are -32602 on tasks/get, tasks/update and tasks/cancel', async () => {
      expect(expectError(await rpc(url, 'tasks/get', { taskId: 'nope' }), -32602, 200).message).toBe(
        'Failed to retrieve task: Task not found',
      );
      expectError(await rpc(url, 'tasks/update', { taskId: 'nope', inputResponses: {} }), -32602, 200);
      expectError(await rpc(url, 'tasks/cancel', { taskId: 'nope' }), -32602, 200);
    });

    it('Mcp-Name must carry the taskId on tasks/* (-32020 when missing or different)', async () => {
      const created = await createTask('slow', { durationMs: 100 });
      expectError(
        await rpc(url, 'tasks/get', { taskId: created.taskId }, { headers: { 'Mcp-Name': null } }),
        -32020,
        400,
      );
      expectError(
        await rpc(url, 'tasks/cancel', { taskId: created.taskId }, { headers: { 'Mcp-Name': 'someone-else' } }),
        -32020,
        400,
      );
      const encoded = `=?base64?${Buffer.from(created.taskId).toString('base64')}?=`;
      expect(
        resultOf(await rpc(url, 'tasks/get', { taskId: created.taskId }, { headers: { 'Mcp-Name': encoded } })).taskId,
      ).toBe(created.taskId);
    });

    it('a task is gone after its ttlMs (-32602 "expired")', async () => {
      const shortLived = await startV2FixtureServer({ ttlMs: 600 });
      try {
        const created = resultOf(
          await rpc(shortLived.url, 'tools/call', { name: 'slow', arguments: { durationMs: 10 } }),
        );
        expect(created.ttlMs).toBe(600);
        expect(resultOf(await rpc(shortLived.url, 'tasks/get', { taskId: created.taskId })).status).toMatch(
          /working|completed/,
        );
        await delay(700);
        expect(
          expectError(await rpc(shortLived.url, 'tasks/get', { taskId: created.taskId }), -32602, 200).message,
        ).toBe('Failed to retrieve task: Task has expired');
      } finally {
        await shortLived.stop();
      }
    });
  });

  describe('subscriptions/listen', () => {
    it('streams notifications/tasks (full DetailedTask) for the subscribed task ids after the acknowledgement', async () => {
      const created = await createTask('slow', { durationMs: 300, statusMessages: 1 });
      const id = 'listen-1';
      const params = { notifications: { taskIds: [created.taskId, 'unknown-task'] } };
      const controller = new AbortController();
      const response = await fetch(url, {
        method: 'POST',
        headers: headersFor('subscriptions/listen', params),
        body: JSON.stringify({
          jsonrpc: '2.0',
          id,
          method: 'subscriptions/listen',
          params: { ...params, _meta: metaFor({}) },
        }),
        signal: controller.signal,
      });
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toBe('text/event-stream');
      const messages: any[] = [];
      const reader = response.body!.getReader();
      const decoder = new TextDecoder();
      let buffer = '';
      try {
        while (!messages.some((m) => m.params?.status === 'completed')) {
          const { value, done } = await reader.read();
          if (done) break;
          buffer += decoder.decode(value, { stream: true });
          let end: number;
          while ((end = buffer.indexOf('\n\n')) >= 0) {
            const event = buffer.slice(0, end);
            buffer = buffer.slice(end + 2);
            const data = event
              .split('\n')
              .filter((line) => line.startsWith('data:'))
              .map((line) => line.slice(5).trim())
              .join('\n');
            if (data) messages.push(JSON.parse(data));
          }
        }
      } finally {
        controller.abort();
      }
      expect(messages[0]).toEqual({
        jsonrpc: '2.0',
        method: 'notifications/subscriptions/acknowledged',
        params: { notifications: { taskIds: [created.taskId] }, _meta: { [META_SUBSCRIPTION_ID]: id } },
      });
      const updates = messages.slice(1);
      expect(updates.length).toBeGreaterThanOrEqual(2);
      for (const update of updates) {
        expect(update.method).toBe('notifications/tasks');
        expect(update.params).toMatchObject({ taskId: created.taskId, _meta: { [META_SUBSCRIPTION_ID]: id } });
        expect(update.params).not.toHaveProperty('resultType');
      }
      const last = updates[updates.length - 1].params;
      expect(last.status).toBe('completed');
      expect(last.result).toEqual((await getTask(created.taskId)).result);
    });

    it('asking for task notifications without the opt-in is -32021', async () => {
      const error = expectError(
        await rpc(url, 'subscriptions/listen', { notifications: { taskIds: ['x'] } }, { tasks: false }),
        -32021,
        400,
      );
      expect(error.data).toEqual({ requiredCapabilities: { extensions: { [TASKS]: {} } } });
    });
  });

  describe('with the official client libraries', () => {
    it('@modelcontextprotocol/client 2.4.0 negotiates the modern era and calls plain tools', async () => {
      const client = new Client(
        { name: 'v2-fixture-test', version: '0.0.0' },
        { versionNegotiation: { mode: 'auto' } },
      );
      await client.connect(new StreamableHTTPClientTransport(new URL(url)));
      try {
        expect(client.getServerCapabilities()?.extensions?.[TASKS]).toEqual({});
        const result = await client.callTool({ name: 'no-task', arguments: {} });
        expect(result.content).toEqual([{ type: 'text', text: 'no-task: done' }]);
      } finally {
        await client.close();
      }
    });

    it('ext-tasks 0.2.2 drives a task (input included) through a fetch rawDispatch', async () => {
      const client = new Client(
        { name: 'v2-fixture-test', version: '0.0.0' },
        { versionNegotiation: { mode: 'auto' } },
      );
      // Under Jest, `Response.json()` builds objects of the host realm, which ext-tasks' isJsonValue (plain
      // prototype check) rejects ("Invalid result for tools/list: Expected a JSON value"): parse in this realm.
      await client.connect(new StreamableHTTPClientTransport(new URL(url), { fetch: sameRealmJsonFetch }));
      const rawDispatch: RawClientDispatch = async (request, options) => {
        const { method, params } = request as { method: string; params: Record<string, unknown> };
        const headers = { ...headersFor(method, params), ...options?.context?.headers };
        const wire = await post(url, { jsonrpc: '2.0', id: nextId++, method, params }, headers);
        return wire.body.error
          ? { kind: 'error', error: wire.body.error }
          : { kind: 'result', result: wire.body.result };
      };
      const session = createTaskSessionFromClient(client, {
        endpointId: 'v2-fixture',
        rawDispatch,
        v2RequestFraming: {
          protocolVersion: PROTOCOL_VERSION,
          clientInfo: { name: 'v2-fixture-test', version: '0.0.0' },
          clientCapabilities: { elicitation: {} },
        },
        // The handler answers elicitations only; the generic signature covers sampling and roots too.
        onInputRequest: (async () => ({ action: 'accept', content: { confirm: true } })) as never,
      });
      try {
        const execution = await session.callTool('needs-input', {});
        const settled = (await execution.result()) as any;
        expect(settled.status).toBe('completed');
        expect(settled.result.content[0].text).toBe('needs-input received: accept {"confirm":true}');
      } finally {
        await session.close().catch(() => {});
        await client.close().catch(() => {});
      }
    });
  });
});
