/**
 * The task clients a host builds, loaded only when a server is really contacted: the MCP client stack and the job
 * runner's client are most of the bundle, and a step or command answered from the job record (a finished job, a bad
 * input, `jobs list`) must start and end fast. Both hosts (the Action, the CLI) build their clients here.
 */
import type { TaskClient } from '../core/ports.js';
import type { McpTaskClientOptions } from '../mcp/task-client.js';
import type { PlacementSettings } from './placement.js';

/** The Streamable HTTP task client. */
export function lazyMcpTaskClient(options: McpTaskClientOptions = {}): TaskClient {
  return {
    open: async (target, join, signal, deadline) => {
      const { McpTaskClient } = await import('../mcp/task-client.js');
      return new McpTaskClient(options).open(target, join, signal, deadline);
    },
  };
}

/** Where a job's call runs (placement.ts): a task server, the job runner, or this process. */
export function lazyPlacementTaskClient(settings: PlacementSettings): TaskClient {
  return {
    open: async (target, join, signal, deadline) => {
      const { placementTaskClient } = await import('./placement.js');
      return placementTaskClient(settings).open(target, join, signal, deadline);
    },
  };
}
