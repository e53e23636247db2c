/** The CLI's exit codes: one per outcome, documented in the README and in `mcp-jobs --help`. */
import type { ErrorCode } from '../core/errors.js';
import type { WaitResult } from '../core/commands/wait.js';
import { isErrorResult } from '../core/result.js';

export const EXIT = {
  completed: 0,
  failed: 1,
  usage: 2,
  canceled: 3,
  timeout: 4,
  inputRequired: 5,
  server: 6,
  interrupted: 130,
} as const;

export const EXIT_TABLE: ReadonlyArray<readonly [number, string]> = [
  [EXIT.completed, 'completed (or: the command did what it was asked)'],
  [EXIT.failed, 'the job failed, or the tool reported an error (isError)'],
  [EXIT.usage, 'usage or input error (bad option, unknown tool flag, no such job, unusable state dir)'],
  [EXIT.canceled, 'the job was canceled'],
  [EXIT.timeout, 'timed out (--timeout, or the deadline of call --timeout)'],
  [EXIT.inputRequired, 'the job waits for input that was not given (--input-responses)'],
  [EXIT.server, 'server unreachable, or a protocol error (the job is not affected)'],
  [EXIT.interrupted, 'interrupted (SIGINT/SIGTERM): the remote task was cancelled'],
];

/** The exit code of an error that ended a command. */
export function exitForError(code: ErrorCode): number {
  switch (code) {
    case 'INVALID_INPUT':
    case 'JOB_NOT_FOUND':
    case 'TOOL_NOT_FOUND':
    case 'RECORD_INVALID':
    case 'STORE_UNAVAILABLE':
    case 'JOB_ELSEWHERE':
      return EXIT.usage;
    case 'INPUT_REQUIRED':
      return EXIT.inputRequired;
    case 'SERVER_UNREACHABLE':
    case 'SERVER_ERROR':
    case 'PROTOCOL_ERROR':
    case 'TASKS_UNSUPPORTED':
    case 'TASK_LOST':
      return EXIT.server;
    case 'INTERRUPTED':
      return EXIT.interrupted;
    case 'INTERNAL':
      return EXIT.failed;
  }
}

/** The exit code of a finished wait (also of watch, and of call without --background). */
export function exitForWait(result: WaitResult): number {
  const job = result.record;
  if (result.end === 'interrupted' || job.cancelReason === 'signal') return EXIT.interrupted;
  if (result.end === 'timeout') return EXIT.timeout;
  switch (job.status) {
    case 'completed':
      return isErrorResult(job) ? EXIT.failed : EXIT.completed;
    case 'failed':
      return EXIT.failed;
    case 'canceled':
      return job.cancelReason === 'timeout' ? EXIT.timeout : EXIT.canceled;
    case 'input_required':
      return EXIT.inputRequired;
    default:
      return EXIT.server;
  }
}
