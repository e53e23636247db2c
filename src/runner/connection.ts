/**
 * The TaskConnection of a job whose call a CallEngine owns: the job runner's (over its socket) or this process's
 * own (the root action's in-process calls). To the job core it is one more TaskConnection. The remote it records
 * names the job (`endpointId: mcp-jobs-job:<job id>`), so later steps find the call by job.
 */
import { JobError } from '../core/errors.js';
import type {
  CancelWhy,
  ServerTarget,
  SubmittedTask,
  TaskConnection,
  TaskOutcome,
  TaskSnapshot,
  ToolCall,
  WatchOptions,
} from '../core/ports.js';
import type { RemoteRef, SessionRef } from '../core/record.js';
import type { EngineEvent, EngineSubmit, Fallback } from './engine.js';
import type { InputResponses } from '../core/parse.js';

const V1 = '2025-11-25' as const;
const JOB_ENDPOINT = 'mcp-jobs-job:';

/** What a connection needs of the engine, wherever it runs. */
export interface EngineApi {
  submit(spec: EngineSubmit): Promise<SubmittedTask>;
  /** Resolves with the end; events before it go to `onEvent`. Rejects when the engine is gone. */
  watch(jobId: string, onEvent: (event: EngineEvent) => void, signal: AbortSignal): Promise<TaskOutcome>;
  snapshot(jobId: string): Promise<TaskSnapshot>;
  cancel(jobId: string, why: CancelWhy): Promise<TaskSnapshot>;
  close(): void;
}

export interface EngineConnectionOptions {
  target: ServerTarget;
  stateDir: string;
  fallback: Fallback;
  /** The caller already knows the server has no task support for this call. */
  plain?: boolean;
  env?: NodeJS.ProcessEnv;
  inputResponses?: InputResponses;
  /** Wait for the call's end inside submit (`fallback: sync`). */
  sync?: boolean;
}

export function jobIdOf(remote: RemoteRef): string {
  if (!remote.endpointId.startsWith(JOB_ENDPOINT)) {
    throw new JobError('INTERNAL', `Task ${remote.taskId} is not a job runner's (${remote.endpointId})`);
  }
  return remote.endpointId.slice(JOB_ENDPOINT.length);
}

export class EngineConnection implements TaskConnection {
  constructor(
    private readonly api: EngineApi,
    private readonly options: EngineConnectionOptions,
  ) {}

  session(): SessionRef {
    return { generation: V1, protocolVersion: V1, serverCapabilities: {}, endpointId: 'mcp-jobs-job:' };
  }

  async submit(call: ToolCall): Promise<SubmittedTask> {
    if (call.job === undefined) throw new JobError('INTERNAL', 'A job runner call needs its job');
    const submitted = await this.api.submit({
      instance: call.job.instance,
      jobId: call.job.jobId,
      server: this.options.target,
      call,
      fallback: this.options.fallback,
      stateDir: this.options.stateDir,
      ...(this.options.plain ? { plain: true } : {}),
      ...(this.options.env === undefined ? {} : { env: this.options.env }),
      ...(this.options.inputResponses === undefined ? {} : { inputResponses: this.options.inputResponses }),
    });
    const remote: RemoteRef = { ...submitted.remote, endpointId: `${JOB_ENDPOINT}${call.job.jobId}` };
    if (!this.options.sync) return { ...submitted, remote };
    const outcome = await this.api.watch(call.job.jobId, () => undefined, new AbortController().signal);
    return { ...submitted, remote, outcome };
  }

  /** A job runner's session holds only the jobs it was given: a lost reply leaves nothing to adopt. */
  sessionTasks(): Promise<TaskSnapshot[]> {
    return Promise.resolve([]);
  }

  snapshot(remote: RemoteRef): Promise<TaskSnapshot> {
    return this.api.snapshot(jobIdOf(remote));
  }

  watch(remote: RemoteRef, options: WatchOptions): Promise<TaskOutcome> {
    return this.api.watch(
      jobIdOf(remote),
      (event) => {
        if (event.event === 'status') void options.onStatus(event.task);
        else if (event.event === 'progress') void options.onProgress?.(event.update);
      },
      options.signal,
    );
  }

  cancel(remote: RemoteRef, _signal?: AbortSignal, why?: CancelWhy): Promise<TaskSnapshot> {
    return this.api.cancel(jobIdOf(remote), why ?? { reason: 'user' });
  }

  close(): Promise<void> {
    this.api.close();
    return Promise.resolve();
  }
}
