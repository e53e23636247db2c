#!/usr/bin/env node
/**
 * A stock SDK 1.x task server, for the benchmark: McpServer + registerToolTask + InMemoryTaskStore, exactly as the
 * SDK documents them, over Streamable HTTP with sessions. Nothing is tuned: the blocking `tasks/result` re-checks
 * the store once per pollInterval, as every unmodified SDK 1.x server does.
 *
 * Env: PORT (0: pick one), STOCK_POLL_MS (the pollInterval of every task, default 1000).
 * stdout: `LISTENING <port>`, then `COMPLETED <taskId> <epochMs>` when `work` {durationMs} stored its result.
 */
import { randomUUID } from 'node:crypto';
import * as z from 'zod/v4';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { createMcpExpressApp } from '@modelcontextprotocol/sdk/server/express.js';
import { isInitializeRequest } from '@modelcontextprotocol/sdk/types.js';
import { InMemoryTaskMessageQueue, InMemoryTaskStore } from '@modelcontextprotocol/sdk/experimental/tasks';

const POLL_MS = Number.parseInt(process.env.STOCK_POLL_MS || '1000', 10) || 1000;
const taskStore = new InMemoryTaskStore();

function createServer() {
  const server = new McpServer(
    { name: 'stock-sdk-task-server', version: '1.0.0' },
    {
      capabilities: { tasks: { list: {}, cancel: {}, requests: { tools: { call: {} } } } },
      taskStore,
      taskMessageQueue: new InMemoryTaskMessageQueue(),
    },
  );
  server.experimental.tasks.registerToolTask(
    'work',
    {
      description: 'Works for durationMs',
      inputSchema: { durationMs: z.number() },
      execution: { taskSupport: 'required' },
    },
    {
      async createTask({ durationMs }, extra) {
        const task = await extra.taskStore.createTask({ ttl: 600_000, pollInterval: POLL_MS });
        setTimeout(async () => {
          const at = Date.now();
          await extra.taskStore.storeTaskResult(task.taskId, 'completed', {
            content: [{ type: 'text', text: `worked ${durationMs} ms` }],
          });
          process.stdout.write(`COMPLETED ${task.taskId} ${at}\n`);
        }, durationMs);
        return { task };
      },
      getTask: async (_args, extra) => await extra.taskStore.getTask(extra.taskId),
      getTaskResult: async (_args, extra) => await extra.taskStore.getTaskResult(extra.taskId),
    },
  );
  return server;
}

const transports = new Map();
const app = createMcpExpressApp({ host: '127.0.0.1' });
app.post('/mcp', async (req, res) => {
  const sessionId = req.headers['mcp-session-id'];
  let transport = sessionId ? transports.get(sessionId) : undefined;
  if (!transport && isInitializeRequest(req.body)) {
    transport = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      onsessioninitialized: (id) => transports.set(id, transport),
    });
    await createServer().connect(transport);
  }
  if (!transport)
    return res.status(400).json({ jsonrpc: '2.0', error: { code: -32000, message: 'No session' }, id: null });
  await transport.handleRequest(req, res, req.body);
});
const session = async (req, res) => {
  const transport = transports.get(req.headers['mcp-session-id']);
  if (!transport) return res.status(404).end();
  await transport.handleRequest(req, res);
};
app.get('/mcp', session);
app.delete('/mcp', session);
const listener = app.listen(Number.parseInt(process.env.PORT || '0', 10) || 0, '127.0.0.1', () => {
  process.stdout.write(`LISTENING ${listener.address().port}\n`);
});
