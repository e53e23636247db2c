/**
 * Where a job's call runs, and over which TaskClient: the one decision every host makes the same way (the action
 * and the CLI call `placementTaskClient` with the same settings).
 *
 * - A Streamable HTTP server with task support: the HTTP task client; the task lives on the server and outlives
 *   the workflow job.
 * - A server without task support (or a tool that forbids tasks), by `fallback`: `error` fails the submit saying
 *   so; `sync` runs the plain call inside the submit and records its result; `background` hands it to the job
 *   runner, which keeps the call open (or, for a host that waits in the same process, runs it in-process).
 * - A stdio server (`command`): always owned by the job runner (in-process for a host that waits itself, and for
 *   `fallback: sync`); a task where the server supports it, else a plain call, as `fallback` says.
 * - A recorded job goes back to where it runs: its runner (from this workflow job only), this process, or the server.
 */
import { isJobError, JobError } from '../core/errors.js';
import type { InputResponses } from '../core/parse.js';
import type {
  CancelWhy,
  JobStore,
  Log,
  SubmittedTask,
  TaskClient,
  TaskConnection,
  TaskOutcome,
  TaskSnapshot,
  ToolCall,
  WatchOptions,
} from '../core/ports.js';
import type { RemoteRef, SessionRef } from '../core/record.js';
import type { StoreKind } from '../store/select.js';
import { RunnerTaskClient } from './client.js';
import type { Fallback } from './engine.js';
import { LocalTaskClient } from './local-client.js';

export interface PlacementSettings {
  stateDir: string;
  instance: string;
  store: StoreKind;
  retentionDays: number;
  /** The job store the host uses (in-process calls record there; a gone runner's jobs are read from it). */
  records: JobStore;
  log: Log;
  fallback: Fallback;
  /** The host waits for the call in this same process (the root action): no job runner is needed. */
  inProcess: boolean;
  /** The environment a stdio server starts with (the step's). */
  env: NodeJS.ProcessEnv;
  inputResponses?: InputResponses;
  /** The job runner's entry file (default: dist/runner/index.js beside the running entry). */
  runnerEntry?: string;
  /** The Streamable HTTP task client (lazily loaded by the host). */
  http: TaskClient;
}

export function placementTaskClient(settings: PlacementSettings): TaskClient {
  const runner = (plain: boolean): TaskClient =>
    new RunnerTaskClient({
      stateDir: settings.stateDir,
      instance: settings.instance,
      store: settings.store,
      retentionDays: settings.retentionDays,
      records: settings.records,
      fallback: settings.fallback,
      env: settings.env,
      plain,
      ...(settings.inputResponses === undefined ? {} : { inputResponses: settings.inputResponses }),
      ...(settings.runnerEntry === undefined ? {} : { runnerEntry: settings.runnerEntry }),
    });
  const local = (plain: boolean, sync: boolean): TaskClient =>
    new LocalTaskClient({
      stateDir: settings.stateDir,
      store: settings.records,
      log: settings.log,
      fallback: settings.fallback,
      env: settings.env,
      sync,
      plain,
      ...(settings.inputResponses === undefined ? {} : { inputResponses: settings.inputResponses }),
    });
  /** Where a call without a task (or on a stdio server) runs when it is new. */
  const engineFor = (plain: boolean): TaskClient =>
    settings.inProcess || settings.fallback === 'sync'
      ? local(plain, !settings.inProcess && settings.fallback === 'sync')
      : runner(plain);
  return {
    async open(target, join, signal, deadline) {
      if (target.runner !== undefined) return runner(false).open(target, join);
      const ownJob = join?.endpointId.startsWith('mcp-jobs-job:') === true;
      if (target.kind === 'call' || ownJob || (target.stdio !== undefined && join !== undefined)) {
        return local(false, false).open(target, join);
      }
      if (target.stdio !== undefined) return engineFor(false).open(target);
      if (join !== undefined) return settings.http.open(target, join, signal, deadline);
      const http = await settings.http.open(target, undefined, signal, deadline);
      return new FallbackConnection(http, settings.fallback, () => engineFor(true).open(target));
    },
  };
}

/**
 * A new connection to an HTTP server: a task where the server supports it; otherwise what `fallback` says, with
 * the plain call handed to where plain calls run.
 */
class FallbackConnection implements TaskConnection {
  private current: TaskConnection;

  constructor(
    http: TaskConnection,
    private readonly fallback: Fallback,
    private readonly plain: () => Promise<TaskConnection>,
  ) {
    this.current = http;
  }

  session(): SessionRef {
    return this.current.session();
  }

  async submit(call: ToolCall, signal?: AbortSignal): Promise<SubmittedTask> {
    try {
      return await this.current.submit(call, signal);
    } catch (error) {
      if (!isJobError(error, 'TASKS_UNSUPPORTED')) throw error;
      if (this.fallback === 'error') {
        throw new JobError(
          'TASKS_UNSUPPORTED',
          `${error.message}. Input 'fallback' is error; use fallback: background (a background job the job runner keeps open) or sync (the call runs inside this step) to run it anyway`,
          { input: 'fallback', cause: error },
        );
      }
      await this.current.close();
      this.current = await this.plain();
      return this.current.submit(call, signal);
    }
  }

  sessionTasks(signal?: AbortSignal): Promise<TaskSnapshot[] | undefined> {
    return this.current.sessionTasks(signal);
  }
  snapshot(remote: RemoteRef, signal?: AbortSignal): Promise<TaskSnapshot> {
    return this.current.snapshot(remote, signal);
  }
  watch(remote: RemoteRef, options: WatchOptions): Promise<TaskOutcome> {
    return this.current.watch(remote, options);
  }
  cancel(remote: RemoteRef, signal?: AbortSignal, why?: CancelWhy): Promise<TaskSnapshot> {
    return this.current.cancel(remote, signal, why);
  }
  close(): Promise<void> {
    return this.current.close();
  }
}
