/**
 * The one error type of mcp-jobs. Every failure a user can act on carries a stable code, says whether trying again
 * may help, and names the input or the record it is about. Anything else that escapes is an internal error and the
 * action boundary reports it as a bug.
 */
export const ERROR_CODES = [
  'INVALID_INPUT',
  'JOB_NOT_FOUND',
  'RECORD_INVALID',
  'TASKS_UNSUPPORTED',
  'TOOL_NOT_FOUND',
  'TASK_LOST',
  /** The job's call is owned by the job runner of another workflow job (or machine). */
  'JOB_ELSEWHERE',
  'INPUT_REQUIRED',
  'SERVER_UNREACHABLE',
  'SERVER_ERROR',
  'PROTOCOL_ERROR',
  'STORE_UNAVAILABLE',
  'INTERRUPTED',
  'INTERNAL',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

export interface JobErrorDetails {
  /** The action input the error is about (kebab-case, as written in a workflow). */
  input?: string;
  /** The job the error is about. */
  jobId?: string;
  /** A file the error is about (a damaged record, say). */
  path?: string;
  /** Whether repeating the same operation later may succeed. */
  retryable?: boolean;
  cause?: unknown;
}

export class JobError extends Error {
  readonly code: ErrorCode;
  readonly input?: string;
  readonly jobId?: string;
  readonly path?: string;
  readonly retryable: boolean;

  constructor(code: ErrorCode, message: string, details: JobErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = 'JobError';
    this.code = code;
    this.input = details.input;
    this.jobId = details.jobId;
    this.path = details.path;
    this.retryable = details.retryable ?? (code === 'SERVER_UNREACHABLE' || code === 'STORE_UNAVAILABLE');
  }
}

/** An error about one action input: the message always starts with the input's name. */
export function invalidInput(input: string, problem: string): JobError {
  return new JobError('INVALID_INPUT', `Input '${input}' ${problem}`, { input });
}

/** The same error, about a job: its message then names the job, so a fan-in wait's errors say whose they are. */
export function aboutJob(error: JobError, jobId: string): JobError {
  if (error.jobId !== undefined || error.message.includes(jobId)) return error;
  return new JobError(error.code, `Job ${jobId}: ${error.message}`, {
    jobId,
    retryable: error.retryable,
    cause: error.cause,
    ...(error.input === undefined ? {} : { input: error.input }),
    ...(error.path === undefined ? {} : { path: error.path }),
  });
}

export function isJobError(error: unknown, code?: ErrorCode): error is JobError {
  return error instanceof JobError && (code === undefined || error.code === code);
}

/** A readable one-line description of anything thrown, for logs and records. */
export function describeError(error: unknown): string {
  if (error instanceof Error) {
    const cause = error.cause instanceof Error ? error.cause.message : undefined;
    return cause !== undefined && !error.message.includes(cause) ? `${error.message} (${cause})` : error.message;
  }
  return String(error);
}
