/**
 * A fetch wrapper that spaces out `tasks/get` polls of one task to at least `floorMs`. The tasks client polls at the
 * server's suggested interval; the `poll-interval` input lets a workflow poll less often than that, without touching
 * the blocking `tasks/result` call that reports completion at once.
 */
type Fetch = typeof fetch;

export function pacedFetch(floorMs: number, base: Fetch = fetch): Fetch {
  const lastPoll = new Map<string, number>();
  return async (input, init) => {
    const body = typeof init?.body === 'string' ? init.body : undefined;
    if (body !== undefined && body.includes('"tasks/get"')) {
      const taskId = taskIdOf(body);
      if (taskId !== undefined) {
        const wait = (lastPoll.get(taskId) ?? 0) + floorMs - Date.now();
        if (wait > 0) await sleep(wait, init?.signal ?? undefined);
        lastPoll.set(taskId, Date.now());
      }
    }
    return base(input, init);
  };
}

function taskIdOf(body: string): string | undefined {
  try {
    const message = JSON.parse(body) as { method?: string; params?: { taskId?: unknown } };
    return message.method === 'tasks/get' && typeof message.params?.taskId === 'string'
      ? message.params.taskId
      : undefined;
  } catch {
    return undefined;
  }
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        reject(signal.reason);
      },
      { once: true },
    );
  });
}
