/**
 * A plain `tools/call` (no task) that stays open until the server answers: how mcp-jobs runs a tool of a server
 * without task support. Progress comes as `notifications/progress` on the call's progress token; cancelling sends
 * `notifications/cancelled` for the request (the SDK does that when the signal aborts).
 */
import type { Client } from '@modelcontextprotocol/client';
import { describeError, isJobError, JobError } from '../core/errors.js';
import type { JsonObject } from '../core/parse.js';
import type { ProgressUpdate, TaskOutcome, ToolCall } from '../core/ports.js';
import { rpcCode, toJobError } from './errors.js';
import { resultTextOf } from './wire.js';

/** The longest timer Node allows: a plain call is bounded by the job's deadline (the wait cancels), not by this. */
const MAX_TIMER_MS = 2_147_483_647;

export interface PlainCallOptions {
  /** The server's name for messages. */
  url: string;
  /** Aborting it cancels the call (`notifications/cancelled`); the outcome is then `cancelled`. */
  signal: AbortSignal;
  /** Why, for the server (the `reason` of `notifications/cancelled`). */
  reason?: () => string | undefined;
  onProgress?: (update: ProgressUpdate) => void;
}

/**
 * Runs the call to its end. Resolves with the outcome the server gave (a tool error, `isError`, is `failed` with
 * its result, as a task's would be); rejects with a JobError when the connection broke before the server answered.
 */
export async function plainCall(client: Client, call: ToolCall, options: PlainCallOptions): Promise<TaskOutcome> {
  const controller = new AbortController();
  const onAbort = (): void => controller.abort(options.reason?.() ?? 'cancelled by mcp-jobs');
  options.signal.addEventListener('abort', onAbort, { once: true });
  if (options.signal.aborted) onAbort();
  try {
    const result = (await client.callTool(
      { name: call.tool, arguments: call.arguments as never },
      {
        signal: controller.signal,
        timeout: MAX_TIMER_MS,
        ...(options.onProgress === undefined
          ? {}
          : {
              onprogress: (progress: { progress: number; total?: number; message?: string }) =>
                options.onProgress!({
                  progress: progress.progress,
                  ...(typeof progress.total === 'number' ? { total: progress.total } : {}),
                  ...(typeof progress.message === 'string' ? { message: progress.message } : {}),
                }),
            }),
      },
    )) as unknown as JsonObject;
    if (result.isError === true) {
      return { status: 'failed', error: { message: resultTextOf(result) ?? 'The tool reported an error' }, result };
    }
    return { status: 'completed', result };
  } catch (error) {
    if (controller.signal.aborted) return { status: 'cancelled' };
    const mapped = isJobError(error) ? error : toJobError(error, { url: options.url, doing: `calling ${call.tool}` });
    const code = rpcCode(mapped);
    // The server answered the call with a JSON-RPC error: that is how this call ended.
    if (code !== undefined) {
      const cause = mapped.cause as { message?: unknown; data?: unknown } | undefined;
      return {
        status: 'failed',
        error: {
          code,
          message: typeof cause?.message === 'string' ? cause.message : describeError(mapped),
          ...(cause?.data === undefined ? {} : { data: cause.data }),
        },
      };
    }
    throw mapped instanceof JobError ? mapped : new JobError('SERVER_UNREACHABLE', describeError(error));
  } finally {
    options.signal.removeEventListener('abort', onAbort);
  }
}
