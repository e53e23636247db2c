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

interface Subscriber {
  onTask: (task: TaskSnapshot, raw: JsonObject) => void;
  onOpen: () => void;
}

/** How long a hub waits for more tasks before (re)subscribing: the waits of a fan-in start together. */
const GATHER_MS = 25;

/**
 * One `subscriptions/listen` per server for every task this process waits on there (a fan-in wait over many jobs):
 * a task joining re-subscribes with the whole set once the joiners of the moment have gathered; a task leaving
 * needs no new subscription (its news is no longer dispatched), and the last one leaving ends it.
 */
class ListenHub {
  private readonly subscribers = new Map<string, Set<Subscriber>>();
  private stream: PushStream | undefined;
  private gathering: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly url: string,
    private readonly headers: Record<string, string>,
    private readonly onEmpty: () => void,
  ) {}

  subscribe(taskId: string, subscriber: Subscriber): () => Promise<void> {
    const known = this.subscribers.get(taskId);
    this.subscribers.set(taskId, new Set([...(known ?? []), subscriber]));
    if (known === undefined) {
      clearTimeout(this.gathering);
      this.gathering = setTimeout(() => this.resubscribe(), GATHER_MS);
    }
    return async () => {
      const set = this.subscribers.get(taskId);
      set?.delete(subscriber);
      if (set?.size === 0) this.subscribers.delete(taskId);
      if (this.subscribers.size > 0) return;
      clearTimeout(this.gathering);
      this.onEmpty();
      const stream = this.stream;
      this.stream = undefined;
      await stream?.close();
    };
  }

  private resubscribe(): void {
    const previous = this.stream;
    this.stream = v2ListenStream(
      this.url,
      this.headers,
      [...this.subscribers.keys()],
      (task, raw) => {
        for (const subscriber of this.subscribers.get(task.taskId) ?? []) subscriber.onTask(task, raw);
      },
      () => {
        for (const set of this.subscribers.values()) for (const subscriber of set) subscriber.onOpen();
      },
    );
    this.stream.start();
    void previous?.close();
  }
}

const hubs = new Map<string, ListenHub>();

/**
 * Subscribes to one task's news on the process's shared subscription to its server (same URL and headers).
 * Returns what ends this subscriber's part.
 */
export function listenForTask(
  url: string,
  headers: Record<string, string>,
  taskId: string,
  subscriber: Subscriber,
): () => Promise<void> {
  // In memory only: the headers (secrets) never leave this process's map key.
  const key = JSON.stringify([url, Object.entries(headers).sort()]);
  let hub = hubs.get(key);
  if (hub === undefined) {
    hub = new ListenHub(url, headers, () => hubs.delete(key));
    hubs.set(key, hub);
  }
  return hub.subscribe(taskId, subscriber);
}
