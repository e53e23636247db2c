/**
 * The background job runner: a detached node process (dist/runner/index.js) that submit starts, which owns the
 * server connections of background jobs and outlives the submit step. It serves one workflow job on one machine,
 * on the Unix socket the channel names, and exits once its last job has ended and been recorded (or when nobody
 * submitted anything to it within a minute of its start). When the workflow job ends, the GitHub runner kills
 * whatever is left of it; the submit post step cancels its jobs just before that (`cancel-all`).
 */
import { chmodSync, mkdirSync, rmSync } from 'node:fs';
import { createConnection, createServer, type Socket } from 'node:net';
import { dirname } from 'node:path';
import { describeError, isJobError } from '../core/errors.js';
import type { JobStore, Log } from '../core/ports.js';
import { defuseCommands } from '../core/text.js';
import { masker, secretEnvValues } from '../mcp/stdio.js';
import { createJobStore, STORE_KINDS, type StoreKind } from '../store/select.js';
import { hostName, readLines, send, type Reply, type Request, type WireError } from './channel.js';
import { CallEngine, type EngineSubmit } from './engine.js';

/** How long a runner nobody submitted to waits before it exits. */
const IDLE_START_MS = 60_000;

export const RUNNER_ENV = {
  socket: 'MCP_JOBS_RUNNER_SOCKET',
  workflowJob: 'MCP_JOBS_RUNNER_WORKFLOW_JOB',
  store: 'MCP_JOBS_RUNNER_STORE',
  retentionDays: 'MCP_JOBS_RUNNER_RETENTION_DAYS',
  /** The stdio server of the submit that starts the runner (JSON: server target and state dir): started at once. */
  prepare: 'MCP_JOBS_RUNNER_PREPARE',
} as const;

function runnerLog(): Log {
  const mask = masker(secretEnvValues(process.env));
  const line = (level: string, message: string): void => {
    process.stderr.write(`${new Date().toISOString()} ${level} ${defuseCommands(mask(message))}\n`);
  };
  return {
    info: (m) => line('info', m),
    warning: (m) => line('warning', m),
    debug: () => undefined,
  };
}

export function wireError(error: unknown): WireError {
  return isJobError(error)
    ? {
        code: error.code,
        message: error.message,
        retryable: error.retryable,
        ...(error.input === undefined ? {} : { input: error.input }),
      }
    : { code: 'INTERNAL', message: describeError(error) };
}

export async function runnerMain(): Promise<void> {
  const socket = process.env[RUNNER_ENV.socket];
  const workflowJob = process.env[RUNNER_ENV.workflowJob];
  if (!socket || !workflowJob) {
    process.stderr.write('mcp-jobs runner: started without its socket and workflow job; submit starts it\n');
    process.exitCode = 2;
    return;
  }
  const kind = (process.env[RUNNER_ENV.store] ?? 'local') as StoreKind;
  const retentionDays = Number(process.env[RUNNER_ENV.retentionDays] ?? '1') || 1;
  const log = runnerLog();
  const stores = new Map<string, JobStore>();
  const storeFor = (stateDir: string): JobStore => {
    let store = stores.get(stateDir);
    if (store === undefined) {
      store = createJobStore({ kind: STORE_KINDS.includes(kind) ? kind : 'local', stateDir, retentionDays, log });
      stores.set(stateDir, store);
    }
    return store;
  };
  // Loaded while the socket starts listening: the first submit is already on its way.
  const taskClient = import('../mcp/task-client.js');
  let submitted = false;
  const exit = (): void => {
    log.info('mcp-jobs runner: no job left; exiting');
    listener.close();
    rmSync(socket, { force: true });
    // Records are written; nothing else holds the process but idle sockets.
    setTimeout(() => process.exit(0), 50).unref();
  };
  const engine = new CallEngine({
    log,
    storeFor,
    runner: { workflowJob, host: hostName(), socket, pid: process.pid },
    connect: async (target, transport, inputResponses) =>
      new (await taskClient).McpTaskClient({
        ...(inputResponses === undefined ? {} : { inputResponses }),
        ...(transport === undefined ? {} : { transport }),
      }).open(target),
    onIdle: () => {
      if (submitted) exit();
    },
  });

  const prepare = process.env[RUNNER_ENV.prepare];
  if (prepare !== undefined && prepare !== '') {
    const serverEnv = { ...process.env };
    for (const name of Object.values(RUNNER_ENV)) delete serverEnv[name];
    try {
      const spec = JSON.parse(prepare) as Pick<EngineSubmit, 'server' | 'stateDir'>;
      engine.prepare({ ...spec, env: serverEnv });
    } catch (error) {
      log.warning(`mcp-jobs runner: could not start the first server early: ${describeError(error)}`);
    }
  }
  const listener = createServer((client) => serve(client, engine, () => (submitted = true)));
  mkdirSync(dirname(socket), { recursive: true, mode: 0o700 });
  const listening = await listen(listener, socket);
  if (!listening) {
    // Another runner of this workflow job got the socket first: it serves the submit.
    process.stdout.write(`${JSON.stringify({ ready: true, existing: true })}\n`);
    return;
  }
  chmodSync(socket, 0o600);
  log.info(`mcp-jobs runner: pid ${process.pid} serving workflow job ${workflowJob} on ${socket}`);
  process.stdout.write(`${JSON.stringify({ ready: true, pid: process.pid })}\n`);
  setTimeout(() => {
    if (!submitted && engine.active().length === 0) void engine.shutdown().finally(exit);
  }, IDLE_START_MS).unref();
  // The GitHub runner ends the workflow job's processes with signals: stop the calls on the way out.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      void engine
        .cancelAll(`the job runner got ${signal}`)
        .then(() => engine.shutdown())
        .finally(exit);
    });
  }
}

/** Listens on the socket; false when a live runner already does. A stale socket file (a dead runner's) is replaced. */
async function listen(server: ReturnType<typeof createServer>, path: string): Promise<boolean> {
  const attempt = (): Promise<NodeJS.ErrnoException | undefined> =>
    new Promise((resolve) => {
      server.once('error', (error: NodeJS.ErrnoException) => resolve(error));
      server.listen(path, () => resolve(undefined));
    });
  let error = await attempt();
  if (error?.code !== 'EADDRINUSE') {
    if (error !== undefined) throw error;
    return true;
  }
  const alive = await new Promise<boolean>((resolve) => {
    const probe = createConnection(path);
    probe.once('connect', () => {
      probe.destroy();
      resolve(true);
    });
    probe.once('error', () => resolve(false));
  });
  if (alive) return false;
  rmSync(path, { force: true });
  error = await attempt();
  if (error !== undefined) throw error;
  return true;
}

function serve(client: Socket, engine: CallEngine, onSubmit: () => void): void {
  const stops: Array<() => void> = [];
  client.on('close', () => stops.forEach((stop) => stop()));
  client.on('error', () => undefined);
  readLines(client, (message) => {
    const request = message as Request;
    const reply = (value: Omit<Reply, 'id'>): void => send(client, { id: request.id, ...value });
    const answer = (work: () => Promise<unknown>): void => {
      work().then(
        (value) => reply({ ok: true, value }),
        (error: unknown) => reply({ ok: false, error: wireError(error) }),
      );
    };
    try {
      switch (request.op) {
        case 'submit':
          onSubmit();
          answer(() => engine.submit(request.spec as EngineSubmit));
          break;
        case 'watch':
          stops.push(engine.watch(request.jobId, (event) => reply(event as Omit<Reply, 'id'>)));
          break;
        case 'snapshot':
          answer(() => Promise.resolve(engine.snapshot(request.jobId)));
          break;
        case 'cancel':
          answer(() => engine.cancel(request.jobId, request.reason, request.note));
          break;
        case 'cancel-all':
          answer(() => engine.cancelAll(request.note));
          break;
        default:
          reply({ ok: false, error: { code: 'INTERNAL', message: 'unknown request' } });
      }
    } catch (error) {
      reply({ ok: false, error: wireError(error) });
    }
  });
}
