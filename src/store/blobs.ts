/**
 * The two write-once stores a runner offers: Actions cache entries and artifacts. Neither can overwrite a name, so
 * shared job records are written as one blob per revision and read back as "the newest blob with this prefix".
 */
import { JobError } from '../core/errors.js';

export interface Blob {
  name: string;
  content: string;
}

export interface RevisionBlobs {
  /** For messages: `the Actions cache`, `workflow artifacts`. */
  readonly description: string;
  /** Why the store cannot be used on this runner, or undefined when it can. */
  unavailableReason(): string | undefined;
  /** Writes a blob under a new name; `exists` when the name is already taken (a concurrent writer won). */
  create(name: string, content: string): Promise<'created' | 'exists'>;
  /** The newest blob whose name starts with `prefix`. */
  newest(prefix: string): Promise<Blob | undefined>;
  /** The name of that blob, without fetching its content. */
  newestName(prefix: string): Promise<string | undefined>;
  /**
   * True when `newest` means the blob written (finalized) last rather than the greatest name: the cache. Then a
   * blob whose upload was slow can land after one with a greater name.
   */
  readonly newestIsLastWritten?: boolean;
}

export function storeUnavailable(description: string, doing: string, cause: unknown): JobError {
  const reason = cause instanceof Error ? cause.message : String(cause);
  return new JobError('STORE_UNAVAILABLE', `${description} is unavailable (${doing}): ${reason}`, {
    cause,
    retryable: true,
  });
}

/** Serialises async work: the cache library works on the process's working directory and environment. */
export class Mutex {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.tail.then(fn, fn);
    this.tail = next.catch(() => undefined);
    return next;
  }
}

/**
 * Lets at most `limit` tasks run at once; the others wait their turn in order. A fan-in reads many records at once,
 * but not so many at once that the runner spawns dozens of tar processes or the service rate-limits it.
 */
export class Limit {
  private running = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(private readonly limit: number) {}

  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.running >= this.limit) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.running++;
    try {
      return await fn();
    } finally {
      const next = this.waiting.shift();
      if (next === undefined) this.running--;
      else next();
    }
  }
}

/** How many store calls a process makes at once (a fan-in's record reads). */
export const STORE_CALLS_AT_ONCE = 8;
