#!/usr/bin/env node
/**
 * A minimal hand-written "submit", the baseline for `bench/run.mjs`: connect (initialize), tools/list, a
 * task-augmented tools/call, print the task ID, exit. No job record, no outputs, no summary.
 *
 *   node bench/minimal-submit.mjs <url> <tool> <argumentsJson> [ext-tasks|raw]
 *
 * Modes:
 *   ext-tasks (default)  tools/call through @modelcontextprotocol/ext-tasks (`callTool(..., {task: {preference:
 *                        'require'}})` + `handoff`), the same libraries `dist/submit` uses.
 *   raw                  tools/call with `params.task = {}` through `client.request(...)`.
 *
 * The session is left open (no HTTP DELETE: that would discard the task); the process exits right away, like the
 * action's entries do.
 */
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { createTaskSessionFromClient, toolDeclarationFromMcpTool } from '@modelcontextprotocol/ext-tasks/client';
import { z } from 'zod';

const [url, tool, argsJson = '{}', mode = 'ext-tasks'] = process.argv.slice(2);
if (!url || !tool || !['ext-tasks', 'raw'].includes(mode)) {
  process.stderr.write('usage: minimal-submit.mjs <url> <tool> <argumentsJson> [ext-tasks|raw]\n');
  process.exit(2);
}
const args = JSON.parse(argsJson);

try {
  const client = new Client({ name: 'mcp-jobs-bench-minimal', version: '0.0.0' }, { capabilities: {} });
  const transport = new StreamableHTTPClientTransport(new URL(url), { reconnectionOptions: { maxRetries: 0 } });
  await client.connect(transport);
  const { tools } = await client.listTools();
  const found = tools.find((t) => t.name === tool);
  if (!found) throw new Error(`no tool ${tool}`);

  let taskId;
  if (mode === 'raw') {
    const result = await client.request(
      { method: 'tools/call', params: { name: tool, arguments: args, task: {} } },
      z.looseObject({ task: z.looseObject({ taskId: z.string() }) }),
    );
    taskId = result.task.taskId;
  } else {
    const session = createTaskSessionFromClient(client, { endpointId: 'b' });
    const execution = await session.callTool(tool, args, {
      declaration: toolDeclarationFromMcpTool(found),
      task: { preference: 'require' },
    });
    if (execution.kind !== 'task') throw new Error('the server did not create a task');
    await execution.handoff(() => {});
    taskId = execution.handle.taskId;
  }
  process.stdout.write(`TASK ${taskId}\n`);
  process.exit(0);
} catch (error) {
  process.stderr.write(`minimal-submit failed: ${error?.stack ?? error}\n`);
  process.exit(1);
}
