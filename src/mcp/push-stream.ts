/**
 * The standalone GET stream of a 2025-11-25 session: where the server pushes what belongs to no request of ours
 * (`notifications/tasks/status` the instant a task's status is stored, progress, log messages) and sends the
 * requests it makes of its own accord (elicitations). A wait that rejoined the session opens it here rather than
 * through the SDK transport, because it must survive what servers really do:
 *
 * - a stream that drops is opened again with `Last-Event-ID` (the server replays what we missed, where it keeps
 *   an event store); a resumed stream that fails, or stays silent although the server sent event IDs before (the
 *   SDK's example server without an event store answers a resumption with a stream that never speaks), is replaced
 *   by a fresh GET;
 * - `409` (the session still holds the stream of an earlier process) and transport failures are retried with
 *   backoff; `405`/`404` and other refusals (no stream offered, session gone) end the listening quietly.
 *
 * The same reader carries the 2026-07-28 `subscriptions/listen` stream (see `PushStream`).
 *
 * Nothing here decides a job: polling continues underneath (the spec says not to rely on notifications alone), so a
 * lost notification costs at most one poll interval.
 */
import { EventSourceParserStream } from 'eventsource-parser/stream';
import type { JsonObject } from '../core/parse.js';
import { backoff, type BackoffPolicy } from '../core/retry.js';
import { isObject } from './wire.js';

/** How long a resumed stream may stay silent before it is taken for one that never speaks. */
const RESUME_SILENCE_MS = 1_500;
const RECONNECT: BackoffPolicy = { startMs: 50, maxMs: 2_000, jitter: 0.3 };

export interface PushStreamOptions {
  /** The request that opens the stream (`lastEventId`: resume after it). */
  open: (lastEventId: string | undefined, signal: AbortSignal) => Promise<Response>;
  /** Every JSON-RPC message the server sends on the stream. */
  onMessage: (message: JsonObject) => void;
  /** A diagnostic line. */
  onDebug?: (line: string) => void;
  /**
   * The stream is open (again). What the server pushed while it was not is lost: the caller reads the task once
   * more, so that nothing between its last read and the stream's opening goes unnoticed.
   */
  onOpen?: () => void;
}

/** The standalone GET stream of a 2025-11-25 session. */
export function sessionStream(options: {
  url: string;
  /** The target's headers (secrets: they go on the request only). */
  headers: Record<string, string>;
  sessionId: string;
  protocolVersion: string;
  onMessage: (message: JsonObject) => void;
  onDebug?: (line: string) => void;
  onOpen?: () => void;
}): PushStream {
  return new PushStream({
    open: (lastEventId, signal) =>
      fetch(options.url, {
        method: 'GET',
        headers: {
          ...options.headers,
          accept: 'text/event-stream',
          'mcp-session-id': options.sessionId,
          'mcp-protocol-version': options.protocolVersion,
          ...(lastEventId === undefined ? {} : { 'last-event-id': lastEventId }),
        },
        signal,
      }),
    onMessage: options.onMessage,
    ...(options.onDebug === undefined ? {} : { onDebug: options.onDebug }),
    ...(options.onOpen === undefined ? {} : { onOpen: options.onOpen }),
  });
}

/**
 * A long-lived SSE response the server pushes messages on, kept open: reopened when it ends or fails (with
 * `Last-Event-ID` where the server sent event IDs; afresh when a resumption fails or stays silent), until closed or
 * until the server says it offers no such stream (HTTP 404/405, a JSON answer instead of a stream).
 */
export class PushStream {
  private readonly stop = new AbortController();
  private lastEventId: string | undefined;
  private running: Promise<void> | undefined;

  constructor(private readonly options: PushStreamOptions) {}

  /** Starts listening (once); returns at once. */
  start(): void {
    this.running ??= this.loop().catch((error: unknown) => this.debug(`stream ended: ${String(error)}`));
  }

  async close(): Promise<void> {
    this.stop.abort();
    await this.running;
  }

  private debug(line: string): void {
    this.options.onDebug?.(line);
  }

  private async loop(): Promise<void> {
    const pause = backoff(RECONNECT);
    while (!this.stop.signal.aborted) {
      const resumeFrom = this.lastEventId;
      const attempt = new AbortController();
      const signal = AbortSignal.any([this.stop.signal, attempt.signal]);
      let heard = false;
      try {
        const response = await this.options.open(resumeFrom, signal);
        // Not offered (no such method or stream, session gone, a request the server refuses): polling only. A
        // conflict (the session still holds an earlier process's stream), a timeout or a rate limit passes.
        if (response.status >= 400 && response.status < 500 && ![408, 409, 429].includes(response.status)) {
          await response.body?.cancel().catch(() => undefined);
          this.debug(`the server offers no such stream (HTTP ${response.status}); polling only`);
          return;
        }
        const type = response.headers.get('content-type') ?? '';
        if (response.ok && !type.includes('text/event-stream')) {
          // A JSON answer (a JSON-RPC error: the method is not offered) instead of a stream.
          await response.body?.cancel().catch(() => undefined);
          this.debug(`the server answered with ${type || 'no content type'} instead of a stream; polling only`);
          return;
        }
        if (!response.ok || response.body === null) {
          await response.body?.cancel().catch(() => undefined);
          // A resumption the server cannot serve: start afresh.
          if (resumeFrom !== undefined) this.lastEventId = undefined;
          throw new Error(`GET answered HTTP ${response.status}${type ? ` (${type})` : ''}`);
        }
        this.options.onOpen?.();
        const silence =
          resumeFrom === undefined
            ? undefined
            : setTimeout(() => {
                if (heard) return;
                this.debug('the resumed stream stays silent; opening a fresh one');
                this.lastEventId = undefined;
                attempt.abort();
              }, RESUME_SILENCE_MS);
        try {
          const events = response.body
            .pipeThrough(new TextDecoderStream())
            .pipeThrough(new EventSourceParserStream())
            .getReader();
          for (;;) {
            const { value: event, done } = await events.read();
            if (done) break;
            heard = true;
            pause.reset();
            if (event.id) this.lastEventId = event.id;
            if (!event.data || (event.event !== undefined && event.event !== 'message')) continue;
            let message: unknown;
            try {
              message = JSON.parse(event.data);
            } catch {
              this.debug('the session stream sent an event that is not JSON; ignored');
              continue;
            }
            if (isObject(message)) this.options.onMessage(message);
          }
        } finally {
          clearTimeout(silence);
        }
        this.debug('the session stream ended; reopening it');
      } catch (error) {
        if (this.stop.signal.aborted) return;
        if (!attempt.signal.aborted) this.debug(`the session stream failed (${describe(error)}); reopening it`);
      }
      if (this.stop.signal.aborted) return;
      // A stream that spoke and then ended is reopened at once; failures back off.
      await sleep(heard ? 0 : pause.next(), this.stop.signal);
    }
  }
}

function describe(error: unknown): string {
  const cause = (error as { cause?: { code?: unknown } } | undefined)?.cause?.code;
  return `${error instanceof Error ? error.message : String(error)}${typeof cause === 'string' ? `: ${cause}` : ''}`;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise<void>((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
