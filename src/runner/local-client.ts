/**
 * Calls this process runs itself, with the same engine the job runner uses: the root action's task-less calls and
 * stdio servers (it waits in the same step, so it needs no runner), and `fallback: sync` (the call ends inside
 * submit). The engine is one per process: the root action's submit and wait share it.
 */
import type { JobStore, Log, ServerTarget, TaskClient, TaskConnection, TaskOutcome } from '../core/ports.js';
import type { InputResponses } from '../core/parse.js';
import type { SessionRef } from '../core/record.js';
import { EngineConnection, type EngineApi } from './connection.js';
import { CallEngine, type Fallback } from './engine.js';

let shared: { engine: CallEngine; stores: Map<string, JobStore> } | undefined;

function processEngine(log: Log): { engine: CallEngine; stores: Map<string, JobStore> } {
  if (shared !== undefined) return shared;
  const stores = new Map<string, JobStore>();
  const engine = new CallEngine({
    log,
    storeFor: (stateDir) => {
      const store = stores.get(stateDir);
      if (store === undefined) throw new Error(`no job store for ${stateDir}`);
      return store;
    },
    connect: async (target, transport, inputResponses) => {
      const { McpTaskClient } = await import('../mcp/task-client.js');
      return new McpTaskClient({
        ...(inputResponses === undefined ? {} : { inputResponses }),
        ...(transport === undefined ? {} : { transport }),
      }).open(target);
    },
  });
  shared = { engine, stores };
  return shared;
}

export interface LocalClientOptions {
  stateDir: string;
  store: JobStore;
  log: Log;
  fallback: Fallback;
  env: NodeJS.ProcessEnv;
  /** The call ends inside submit (`fallback: sync`) instead of in a later wait of this process. */
  sync: boolean;
  plain?: boolean;
  inputResponses?: InputResponses;
}

export class LocalTaskClient implements TaskClient {
  constructor(private readonly options: LocalClientOptions) {}

  open(target: ServerTarget, _join?: SessionRef): Promise<TaskConnection> {
    const { engine, stores } = processEngine(this.options.log);
    stores.set(this.options.stateDir, this.options.store);
    const api: EngineApi = {
      submit: (spec) => engine.submit(spec),
      watch: (jobId, onEvent, signal) => {
        if (!engine.has(jobId)) return Promise.resolve(lostInProcess(jobId));
        return new Promise<TaskOutcome>((resolve, reject) => {
          let stop: () => void = () => undefined;
          const onAbort = (): void => {
            stop();
            reject(signal.reason);
          };
          signal.addEventListener('abort', onAbort, { once: true });
          stop = engine.watch(jobId, (event) => {
            if (event.event !== 'end') return onEvent(event);
            signal.removeEventListener('abort', onAbort);
            stop();
            resolve(event.outcome);
          });
        });
      },
      snapshot: (jobId) =>
        Promise.resolve(engine.has(jobId) ? engine.snapshot(jobId) : { taskId: jobId, status: 'failed' as const }),
      cancel: (jobId, why) =>
        engine.has(jobId)
          ? engine.cancel(jobId, why.reason, why.note)
          : Promise.resolve({ taskId: jobId, status: 'failed' as const }),
      close: () => undefined,
    };
    return Promise.resolve(
      new EngineConnection(api, {
        target,
        stateDir: this.options.stateDir,
        fallback: this.options.fallback,
        env: this.options.env,
        sync: this.options.sync,
        ...(this.options.plain ? { plain: true } : {}),
        ...(this.options.inputResponses === undefined ? {} : { inputResponses: this.options.inputResponses }),
      }),
    );
  }
}

/** A call that ran inside another step's process, which has ended: the call ended with it. */
function lostInProcess(jobId: string): TaskOutcome {
  return {
    status: 'failed',
    error: {
      message: `Job ${jobId} ran inside the step that submitted it (the root action, or fallback: sync), and that step ended before the call did; the call ended with it`,
    },
  };
}
