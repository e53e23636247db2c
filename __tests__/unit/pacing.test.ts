import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { pacedFetch } from '../../src/mcp/pacing.js';

type Fetch = typeof fetch;

interface Call {
  input: Parameters<Fetch>[0];
  init: Parameters<Fetch>[1];
  at: number;
}

/** A base fetch that records each call and its time, and answers 200. */
function recordingFetch(): { fetch: Fetch; calls: Call[] } {
  const calls: Call[] = [];
  const fetch: Fetch = async (input, init) => {
    calls.push({ input, init, at: performance.now() });
    return new Response('{}', { status: 200 });
  };
  return { fetch, calls };
}

/** Aborted after each test, so a call wrongly held back cannot keep a timer alive. */
let cleanup: AbortController;
beforeEach(() => {
  cleanup = new AbortController();
});
afterEach(() => {
  cleanup.abort(new Error('test over'));
});

const rpc = (method: string, params: Record<string, unknown> = {}, id = 1): RequestInit => ({
  method: 'POST',
  body: JSON.stringify({ jsonrpc: '2.0', id, method, params }),
  signal: cleanup.signal,
});

const ENDPOINT = 'http://mcp.test/mcp';
/** Longer than any test may run: a call held back by it would time the test out. */
const FOREVER = 10 * 60_000;
/** The timeout of a test that would hang if a call were held back. */
const QUICK = 2_000;

describe('pacedFetch', () => {
  it('spaces two polls of the same task at least the floor apart', async () => {
    const floor = 30;
    const base = recordingFetch();
    const paced = pacedFetch(floor, base.fetch);
    await paced(ENDPOINT, rpc('tasks/get', { taskId: 'task-1' }, 1));
    await paced(ENDPOINT, rpc('tasks/get', { taskId: 'task-1' }, 2));
    await paced(ENDPOINT, rpc('tasks/get', { taskId: 'task-1' }, 3));
    expect(base.calls).toHaveLength(3);
    // Timers may fire up to a millisecond early against a millisecond clock.
    expect(base.calls[1]!.at - base.calls[0]!.at).toBeGreaterThanOrEqual(floor - 2);
    expect(base.calls[2]!.at - base.calls[1]!.at).toBeGreaterThanOrEqual(floor - 2);
  });

  it(
    'does not hold back the first poll of a task, nor polls of another task',
    async () => {
      const base = recordingFetch();
      const paced = pacedFetch(FOREVER, base.fetch);
      await paced(ENDPOINT, rpc('tasks/get', { taskId: 'task-1' }));
      await paced(ENDPOINT, rpc('tasks/get', { taskId: 'task-2' }));
      await paced(ENDPOINT, rpc('tasks/get', { taskId: 'task-3' }));
      expect(base.calls).toHaveLength(3);
    },
    QUICK,
  );

  it(
    'passes every other request straight through, unchanged',
    async () => {
      const base = recordingFetch();
      const paced = pacedFetch(FOREVER, base.fetch);
      await paced(ENDPOINT, rpc('tasks/get', { taskId: 'task-1' }));
      const others: RequestInit[] = [
        rpc('tasks/result', { taskId: 'task-1' }),
        rpc('tasks/cancel', { taskId: 'task-1' }),
        rpc('tools/call', { name: 'research', arguments: { q: 'tasks/get' } }),
        { method: 'GET', signal: cleanup.signal },
        { method: 'DELETE', signal: cleanup.signal },
        { method: 'POST', body: 'not json but mentions "tasks/get"', signal: cleanup.signal },
      ];
      for (const init of others) await paced(ENDPOINT, init);
      await paced(ENDPOINT);
      expect(base.calls).toHaveLength(1 + others.length + 1);
      others.forEach((init, i) => {
        expect(base.calls[i + 1]!.init).toBe(init);
        expect(base.calls[i + 1]!.input).toBe(ENDPOINT);
      });
    },
    QUICK,
  );

  it(
    'gives up a held-back poll when its request is aborted, without sending it',
    async () => {
      const base = recordingFetch();
      const paced = pacedFetch(FOREVER, base.fetch);
      await paced(ENDPOINT, rpc('tasks/get', { taskId: 'task-1' }));
      const controller = new AbortController();
      const held = paced(ENDPOINT, { ...rpc('tasks/get', { taskId: 'task-1' }), signal: controller.signal });
      const reason = new Error('watch stopped');
      controller.abort(reason);
      await expect(held).rejects.toBe(reason);
      expect(base.calls).toHaveLength(1);
    },
    QUICK,
  );

  it('returns the base response', async () => {
    const response = new Response('{"ok":true}', { status: 202 });
    const paced = pacedFetch(10, async () => response);
    expect(await paced(ENDPOINT, rpc('tools/list'))).toBe(response);
  });
});
