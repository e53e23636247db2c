/**
 * 2026-07-28 push: `subscriptions/listen` for a set of task IDs. The server acknowledges with
 * `notifications/subscriptions/acknowledged` (the IDs it agreed to watch) and then sends `notifications/tasks`, each a
 * full DetailedTask (the result or error inlined) tagged with the subscription's ID in
 * `_meta["io.modelcontextprotocol/subscriptionId"]`. A server without it answers a JSON-RPC error (or refuses the
 * request): the wait then relies on `tasks/get` polling alone, which continues underneath in any case.
 */
import type { JsonObject } from '../core/parse.js';
import type { TaskSnapshot } from '../core/ports.js';
import { PushStream } from './push-stream.js';
import { V2_PROTOCOL } from './v2-dispatch.js';
import { decodeTask, frameV2, isObject } from './wire.js';

export const SUBSCRIPTION_ID_META = 'io.modelcontextprotocol/subscriptionId';

export function v2ListenStream(
  url: string,
  headers: Record<string, string>,
  taskIds: readonly string[],
  onTask: (task: TaskSnapshot, raw: JsonObject) => void,
  onOpen?: () => void,
): PushStream {
  let opened = 0;
  let subscription: unknown;
  return new PushStream({
    open: (_lastEventId, signal) => {
      subscription = `mcp-jobs-listen-${++opened}`;
      const request = frameV2('subscriptions/listen', { notifications: { taskIds: [...taskIds] } });
      return fetch(url, {
        method: 'POST',
        headers: {
          ...headers,
          'Content-Type': 'application/json',
          Accept: 'text/event-stream, application/json',
          'MCP-Protocol-Version': V2_PROTOCOL,
          'Mcp-Method': 'subscriptions/listen',
        },
        body: JSON.stringify({ jsonrpc: '2.0', id: subscription, ...request }),
        signal,
      });
    },
    onMessage: (message) => {
      if (message.method !== 'notifications/tasks' || !isObject(message.params)) return;
      const params = message.params;
      const meta = isObject(params._meta) ? params._meta : {};
      // Another subscription's news (a server that multiplexes) is not ours to read.
      if (meta[SUBSCRIPTION_ID_META] !== undefined && meta[SUBSCRIPTION_ID_META] !== subscription) return;
      try {
        onTask(decodeTask(params, url), params);
      } catch {
        // A task we cannot read: the next poll reads it again.
      }
    },
    ...(onOpen === undefined ? {} : { onOpen }),
  });
}
