/**
 * Test MCP servers, each run as a separate node process bound to 127.0.0.1:
 * - the real `@modelcontextprotocol/server-everything` in Streamable HTTP mode (forced onto loopback);
 * - the v1 task fixture `__tests__/fixtures/v1-task-server.mjs` (normal, no-tasks, bad-json, bad-schema);
 * - the v2 task fixture `__tests__/fixtures/v2-task-server.mjs` (protocol 2026-07-28 + the tasks extension);
 * - the official SDK 1.x example servers `simpleStreamableHttp` and `simpleTaskInteractive` (forced onto loopback);
 * - the hostile fixture `__tests__/fixtures/hostile-server.mjs` (2025-11-25; everything it says is an injection).
 *
 * Every server is started with a stdin pipe and the `exit-with-parent.mjs` preload, so it exits as soon
 * as the test process goes away, and it is also killed on the test process's exit. Still, call
 * `stop()` (or `stopAllServers()`) in `afterAll`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const FIXTURES_DIR = path.join(REPO_ROOT, '__tests__', 'fixtures');
export const V1_TASK_SERVER = path.join(FIXTURES_DIR, 'v1-task-server.mjs');
export const V2_TASK_SERVER = path.join(FIXTURES_DIR, 'v2-task-server.mjs');
export const HOSTILE_SERVER = path.join(FIXTURES_DIR, 'hostile-server.mjs');
export const LOOPBACK_PRELOAD = path.join(FIXTURES_DIR, 'loopback-preload.mjs');
export const EXIT_WITH_PARENT_PRELOAD = path.join(FIXTURES_DIR, 'exit-with-parent.mjs');
export const EVERYTHING_ENTRY = path.join(
  REPO_ROOT,
  'node_modules',
  '@modelcontextprotocol',
  'server-everything',
  'dist',
  'index.js',
);

export const SDK_EXAMPLES_DIR = path.join(
  REPO_ROOT,
  'node_modules',
  '@modelcontextprotocol',
  'sdk',
  'dist',
  'esm',
  'examples',
  'server',
);

export type FixtureMode = 'normal' | 'no-tasks' | 'bad-json' | 'bad-schema';

export interface RunningServer {
  /** MCP endpoint, `http://127.0.0.1:<port>/mcp`. */
  readonly url: string;
  readonly port: number;
  /** The current server process (a new one after `restart()`). */
  readonly process: ChildProcess;
  /** Everything the current process wrote to stdout / stderr so far. */
  stdout(): string;
  stderr(): string;
  /** Resolves with the first match of `pattern` in stdout (already written or future). */
  waitForStdout(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  /** Sends `signal` (default SIGTERM), escalates to SIGKILL after 3 s, resolves when the process exited. */
  stop(signal?: NodeJS.Signals): Promise<void>;
  /** Stops the server and starts a fresh process on the same port (all sessions and tasks are lost). */
  restart(): Promise<void>;
}

export interface StartServerOptions {
  /** Extra environment for the server process. */
  env?: Record<string, string>;
  /** How long to wait for the server to be ready (default 15 s). */
  startTimeoutMs?: number;
}

/** For the fixtures (which pick their own free port by default): listen on this port instead. */
export interface FixturePortOption {
  /** Port to listen on (e.g. one another server just gave up); default: a free one. */
  port?: number;
}

export interface FixtureServerOptions extends StartServerOptions, FixturePortOption {
  mode?: FixtureMode;
  /** pollInterval (ms) the fixture advertises on its tasks (default 1000). */
  pollIntervalMs?: number;
  /** Declare capabilities.tasks without `cancel` (tasks/cancel still works), like the SDK example servers. */
  noCancelCapability?: boolean;
  /** `slow` without `statusMessages` reports a status every this many ms (FIXTURE_STATUS_EVERY_MS). */
  statusEveryMs?: number;
  /** The SDK's own blocking tasks/result, which re-checks only once per pollInterval (FIXTURE_STOCK_RESULT). */
  stockResult?: boolean;
}

export interface FixtureTask {
  taskId: string;
  status: 'working' | 'input_required' | 'completed' | 'failed' | 'cancelled';
  sessionId: string | null;
  tool: string | null;
  statusMessage: string | null;
  createdAt: string;
  lastUpdatedAt: string;
  ttl: number | null;
}

const DEFAULT_START_TIMEOUT_MS = 15_000;
const STOP_GRACE_MS = 3_000;

// ---------------------------------------------------------------------------------------------
// Cleanup at exit. Inside Jest, `process` is a sandbox copy whose 'exit' event never fires, so the
// real process object is taken from node itself when possible (the stdin pipe is the backstop).
// ---------------------------------------------------------------------------------------------

const liveProcesses = new Set<ChildProcess>();
const liveServers = new Set<ManagedServer>();

function realProcess(): NodeJS.Process {
  const getBuiltin = (process as unknown as { getBuiltinModule?: (id: string) => unknown }).getBuiltinModule;
  if (typeof getBuiltin === 'function') {
    const real = getBuiltin.call(process, 'node:process') as NodeJS.Process | undefined;
    if (real && typeof real.once === 'function') return real;
  }
  return process;
}

let exitHookInstalled = false;
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  realProcess().once('exit', () => {
    for (const child of liveProcesses) {
      try {
        child.kill('SIGKILL');
      } catch {
        // already gone
      }
    }
  });
}

/** Stops every server started by this module (for `afterAll`). */
export async function stopAllServers(): Promise<void> {
  await Promise.all(Array.from(liveServers, (server) => server.stop()));
}

// ---------------------------------------------------------------------------------------------
// Ports
// ---------------------------------------------------------------------------------------------

/** A port that is free on 127.0.0.1 right now (listen on port 0, read it, close). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close((error) => (error ? reject(error) : resolve(port)));
    });
  });
}

/** Resolves once a TCP connection to 127.0.0.1:port succeeds. */
export async function waitForPort(port: number, timeoutMs: number, isAlive: () => boolean = () => true): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = net.connect({ host: '127.0.0.1', port });
      const done = (result: boolean) => {
        socket.removeAllListeners();
        socket.destroy();
        resolve(result);
      };
      socket.setTimeout(1000, () => done(false));
      socket.once('connect', () => done(true));
      socket.once('error', () => done(false));
    });
    if (ok) return;
    if (!isAlive()) throw new Error(`process exited before port ${port} accepted connections`);
    if (Date.now() > deadline) throw new Error(`port ${port} did not accept connections within ${timeoutMs} ms`);
    await delay(50);
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

// ---------------------------------------------------------------------------------------------
// Managed server process
// ---------------------------------------------------------------------------------------------

interface LaunchSpec {
  /** Arguments after `node`. */
  args: (port: number) => string[];
  env: (port: number) => Record<string, string>;
  /** Port to start on the first time: a number, or 'free' to pick one first. */
  initialPort: number | 'free';
  /** Readiness: a line in stdout+stderr; may report the port (capture group 1). */
  ready: RegExp;
  /** Also wait until the port accepts TCP connections. */
  probePort: boolean;
  startTimeoutMs: number;
  name: string;
}

class ManagedServer implements RunningServer {
  private child!: ChildProcess;
  private out = '';
  private err = '';
  private exited!: Promise<void>;
  private outWaiters = new Set<() => void>();
  port = 0;

  constructor(private readonly spec: LaunchSpec) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}/mcp`;
  }

  get process(): ChildProcess {
    return this.child;
  }

  stdout(): string {
    return this.out;
  }

  stderr(): string {
    return this.err;
  }

  async start(port: number): Promise<void> {
    installExitHook();
    this.out = '';
    this.err = '';
    const child = spawn(process.execPath, this.spec.args(port), {
      cwd: REPO_ROOT,
      env: this.spec.env(port),
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    this.child = child;
    liveProcesses.add(child);
    liveServers.add(this);
    this.exited = new Promise<void>((resolve) => {
      child.once('exit', () => {
        liveProcesses.delete(child);
        resolve();
      });
      child.once('error', () => {
        liveProcesses.delete(child);
        resolve();
      });
    });
    // Do not keep the test process alive because of a server; the stdin pipe ends the server with us.
    child.unref();
    for (const stream of [child.stdin, child.stdout, child.stderr]) {
      (stream as unknown as { unref?: () => void } | null)?.unref?.();
    }
    child.stdin?.on('error', () => {});
    child.stdout?.setEncoding('utf8');
    child.stderr?.setEncoding('utf8');
    child.stdout?.on('data', (chunk: string) => {
      this.out += chunk;
      for (const wake of this.outWaiters) wake();
    });
    child.stderr?.on('data', (chunk: string) => {
      this.err += chunk;
      for (const wake of this.outWaiters) wake();
    });

    const deadline = Date.now() + this.spec.startTimeoutMs;
    try {
      const match = await this.waitFor(
        () => this.spec.ready.exec(`${this.out}\n${this.err}`),
        this.spec.startTimeoutMs,
        true,
      );
      this.port = match[1] ? Number(match[1]) : port;
      if (!this.port) throw new Error(`${this.spec.name}: could not tell the port from ${JSON.stringify(match[0])}`);
      if (this.spec.probePort) {
        await waitForPort(
          this.port,
          Math.max(500, deadline - Date.now()),
          () => child.exitCode === null && child.signalCode === null,
        );
      }
    } catch (error) {
      await this.stop('SIGKILL');
      throw new Error(
        `${this.spec.name} did not start: ${(error as Error).message}\n--- stdout ---\n${this.out}\n--- stderr ---\n${this.err}`,
        { cause: error },
      );
    }
  }

  waitForStdout(pattern: RegExp, timeoutMs = 10_000): Promise<RegExpMatchArray> {
    return this.waitFor(() => pattern.exec(this.out), timeoutMs, false);
  }

  private waitFor(
    probe: () => RegExpExecArray | null,
    timeoutMs: number,
    failOnExit: boolean,
  ): Promise<RegExpMatchArray> {
    return new Promise((resolve, reject) => {
      const child = this.child;
      const check = () => {
        const match = probe();
        if (match) {
          finish();
          resolve(match);
          return true;
        }
        return false;
      };
      const onExit = () => {
        // Let pending output be read before giving up.
        setImmediate(() => {
          if (check()) return;
          finish();
          reject(new Error(`process exited (code ${child.exitCode}, signal ${child.signalCode})`));
        });
      };
      const timer = setTimeout(() => {
        finish();
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${probe.toString()}`));
      }, timeoutMs);
      const finish = () => {
        clearTimeout(timer);
        this.outWaiters.delete(wake);
        child.off('exit', onExit);
      };
      const wake = () => {
        check();
      };
      if (check()) return;
      this.outWaiters.add(wake);
      if (failOnExit) {
        if (child.exitCode !== null || child.signalCode !== null) onExit();
        else child.once('exit', onExit);
      }
    });
  }

  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const child = this.child;
    liveServers.delete(this);
    if (!child) return;
    if (child.exitCode === null && child.signalCode === null) {
      child.kill(signal);
      const killTimer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
      await this.exited;
      clearTimeout(killTimer);
    }
    child.stdin?.destroy();
    child.stdout?.destroy();
    child.stderr?.destroy();
  }

  async restart(): Promise<void> {
    const port = this.port;
    await this.stop();
    await this.start(port);
  }
}

async function launch(spec: LaunchSpec): Promise<RunningServer> {
  // A port picked in advance can be taken before the server binds it: try a few times.
  const attempts = spec.initialPort === 'free' ? 3 : 1;
  let lastError: unknown;
  for (let attempt = 1; attempt <= attempts; attempt++) {
    const server = new ManagedServer(spec);
    try {
      await server.start(spec.initialPort === 'free' ? await freePort() : spec.initialPort);
      return server;
    } catch (error) {
      lastError = error;
    }
  }
  throw lastError;
}

function baseEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const name of ['PATH', 'HOME', 'TMPDIR', 'LANG', 'SYSTEMROOT']) {
    const value = process.env[name];
    if (value !== undefined) env[name] = value;
  }
  return env;
}

function preloadArgs(...files: string[]): string[] {
  return files.flatMap((file) => ['--import', pathToFileURL(file).href]);
}

/**
 * Starts the real `@modelcontextprotocol/server-everything` in Streamable HTTP mode on a free loopback port.
 * Its task tool is `simulate-research-query` ({ topic, ambiguous? }, taskSupport required, ~4 s).
 */
export function startEverythingServer(opts: StartServerOptions = {}): Promise<RunningServer> {
  return launch({
    name: 'server-everything',
    args: () => [...preloadArgs(EXIT_WITH_PARENT_PRELOAD, LOOPBACK_PRELOAD), EVERYTHING_ENTRY, 'streamableHttp'],
    env: (port) => ({ ...baseEnv(), ...opts.env, PORT: String(port) }),
    initialPort: 'free',
    ready: /Streamable HTTP Server listening on port (\d+)/,
    probePort: true,
    startTimeoutMs: opts.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS,
  });
}

export type SdkExampleServerName = 'simpleStreamableHttp' | 'simpleTaskInteractive';

export interface SdkExampleServerOptions extends StartServerOptions, FixturePortOption {}

/**
 * How each SDK 1.x example server is told its port and says it is ready. Neither can pick a free port itself (port 0
 * would be logged as 0), so a free one is chosen first. Both call `app.listen(port)` without a host: the loopback
 * preload binds them to 127.0.0.1.
 */
const SDK_EXAMPLES: Record<SdkExampleServerName, { portEnv: string; ready: RegExp }> = {
  simpleStreamableHttp: { portEnv: 'MCP_PORT', ready: /MCP Streamable HTTP Server listening on port (\d+)/ },
  simpleTaskInteractive: { portEnv: 'PORT', ready: /Starting server on http:\/\/localhost:(\d+)\/mcp/ },
};

/**
 * Starts an official SDK 1.x example server from `@modelcontextprotocol/sdk/dist/esm/examples/server/<name>.js`
 * (protocol 2025-11-25, sessions, capabilities.tasks = `{ requests: { tools: { call: {} } } }` only: no `cancel`,
 * no `list`). Behaviour pinned by `__tests__/integration/sdk-example-servers.test.ts`:
 * - `simpleStreamableHttp`: task tools (taskSupport 'required') `delay` {duration?: ms, default 5000} and
 *   `collect-user-info-task` {infoType?: 'contact'|'preferences'} (elicits through the task message queue, i.e. on
 *   tasks/result); plain tools greet, multi-greet, collect-user-info, start-notification-stream, list-files.
 *   tasks/cancel and tasks/list work although undeclared; tasks/result of a cancelled task is -32603 "no result
 *   stored"; cancelling a `delay` task makes the process exit with code 1 when the delay ends (uncaught "Cannot store
 *   result"). Status changes go out as notifications/tasks/status on the GET stream. It has an event store, but
 *   resuming the GET stream with Last-Event-ID gives a 200 stream that never carries anything (the store cannot parse
 *   `_GET_stream_...` event ids); a GET without Last-Event-ID is live again.
 * - `simpleTaskInteractive`: `confirm_delete` {filename?} (elicitation) and `write_haiku` {topic?} (sampling), both
 *   taskSupport 'required', tasks start input_required; its tasks/result handler sends the queued request with
 *   `elicitInput()`/`createMessage()` and no related request, i.e. on the GET stream (with related-task `_meta`;
 *   no event store: lost if no GET stream is open), then answers the result. tasks/cancel is -32601.
 * Both print every request to stdout. Endpoint: `server.url`.
 */
export function startSdkExampleServer(
  name: SdkExampleServerName,
  opts: SdkExampleServerOptions = {},
): Promise<RunningServer> {
  const example = SDK_EXAMPLES[name];
  if (!example) throw new Error(`unknown SDK example server ${JSON.stringify(name)}`);
  return launch({
    name: `sdk example ${name}`,
    args: () => [...preloadArgs(EXIT_WITH_PARENT_PRELOAD, LOOPBACK_PRELOAD), path.join(SDK_EXAMPLES_DIR, `${name}.js`)],
    env: (port) => ({ ...baseEnv(), ...opts.env, [example.portEnv]: String(port) }),
    initialPort: opts.port ?? 'free',
    ready: example.ready,
    probePort: true,
    startTimeoutMs: opts.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS,
  });
}

/**
 * Starts `__tests__/fixtures/v1-task-server.mjs` (it picks its own free port) and waits for `LISTENING <port>`.
 * Task tools: slow, fail, until-cancelled, big-result, ask-outside (required), optional-task; plain: no-task.
 */
export function startFixtureServer(opts: FixtureServerOptions = {}): Promise<RunningServer> {
  const mode = opts.mode ?? 'normal';
  return launch({
    name: `v1-task-server (${mode})`,
    args: () => [...preloadArgs(EXIT_WITH_PARENT_PRELOAD), V1_TASK_SERVER],
    env: (port) => {
      // First start: port 0 (the fixture picks a free one itself); a restart reuses the previous port.
      const env: Record<string, string> = { ...baseEnv(), ...opts.env, PORT: String(port), FIXTURE_MODE: mode };
      if (opts.pollIntervalMs !== undefined) env.FIXTURE_POLL_INTERVAL = String(opts.pollIntervalMs);
      if (opts.noCancelCapability) env.FIXTURE_NO_CANCEL_CAPABILITY = '1';
      if (opts.statusEveryMs !== undefined) env.FIXTURE_STATUS_EVERY_MS = String(opts.statusEveryMs);
      if (opts.stockResult) env.FIXTURE_STOCK_RESULT = '1';
      return env;
    },
    initialPort: opts.port ?? 0,
    ready: /^LISTENING (\d+)$/m,
    probePort: false,
    startTimeoutMs: opts.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS,
  });
}

/** The tasks the fixture server really holds, over all sessions (GET /_fixture/tasks). */
export async function fixtureTasks(server: Pick<RunningServer, 'url'>): Promise<FixtureTask[]> {
  const response = await fetch(new URL('/_fixture/tasks', server.url));
  if (!response.ok) throw new Error(`GET /_fixture/tasks answered HTTP ${response.status}`);
  const body = (await response.json()) as { tasks: FixtureTask[] };
  return body.tasks;
}

/** The fixture's view of one task, or undefined. */
export async function fixtureTask(
  server: Pick<RunningServer, 'url'>,
  taskId: string,
): Promise<FixtureTask | undefined> {
  return (await fixtureTasks(server)).find((task) => task.taskId === taskId);
}

// ---------------------------------------------------------------------------------------------
// v2 generation: protocol 2026-07-28 with the tasks extension `io.modelcontextprotocol/tasks` (SEP-2663)
// ---------------------------------------------------------------------------------------------

export interface V2FixtureServerOptions extends StartServerOptions, FixturePortOption {
  /** pollIntervalMs the fixture advertises on its tasks (default 1000). */
  pollIntervalMs?: number;
  /** ttlMs of every task (default 3600000); the task is gone (-32602 "expired") once it elapsed. */
  ttlMs?: number;
  /**
   * Persist the tasks to this JSON file and reload them at start (FIXTURE_STATE_FILE), so `restart()` keeps them:
   * a running task resumes and completes when it would have without the restart. The test owns (and removes) the file.
   */
  stateFile?: string;
  /** Fractional numbers, `null` for absent fields and unknown extra fields on every task (FIXTURE_DEVIANT). */
  deviant?: boolean;
}

/** A task as GET /_fixture/tasks of the v2 fixture reports it. */
export interface V2FixtureTask {
  taskId: string;
  status: 'working' | 'input_required' | 'completed' | 'failed' | 'cancelled';
  tool: string;
  statusMessage: string | null;
  createdAt: string;
  lastUpdatedAt: string;
  ttlMs: number;
  pollIntervalMs: number;
  cancelRequested: boolean;
  inputRequests: Record<string, unknown> | null;
}

/**
 * Starts `__tests__/fixtures/v2-task-server.mjs` (stateless 2026-07-28 + tasks extension; it picks its own free
 * port) and waits for `LISTENING <port>`. Endpoint: `server.url` (`http://127.0.0.1:<port>/mcp`).
 */
export function startV2FixtureServer(opts: V2FixtureServerOptions = {}): Promise<RunningServer> {
  return launch({
    name: 'v2-task-server',
    args: () => [...preloadArgs(EXIT_WITH_PARENT_PRELOAD), V2_TASK_SERVER],
    env: (port) => {
      // First start: port 0 (the fixture picks a free one itself); a restart reuses the previous port.
      const env: Record<string, string> = { ...baseEnv(), ...opts.env, PORT: String(port) };
      if (opts.pollIntervalMs !== undefined) env.FIXTURE_POLL_INTERVAL = String(opts.pollIntervalMs);
      if (opts.ttlMs !== undefined) env.FIXTURE_TTL_MS = String(opts.ttlMs);
      if (opts.stateFile !== undefined) env.FIXTURE_STATE_FILE = opts.stateFile;
      if (opts.deviant) env.FIXTURE_DEVIANT = '1';
      return env;
    },
    initialPort: opts.port ?? 0,
    ready: /^LISTENING (\d+)$/m,
    probePort: false,
    startTimeoutMs: opts.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS,
  });
}

/** The tasks the v2 fixture really holds (GET /_fixture/tasks). */
export async function v2FixtureTasks(server: Pick<RunningServer, 'url'>): Promise<V2FixtureTask[]> {
  const response = await fetch(new URL('/_fixture/tasks', server.url));
  if (!response.ok) throw new Error(`GET /_fixture/tasks answered HTTP ${response.status}`);
  const body = (await response.json()) as { tasks: V2FixtureTask[] };
  return body.tasks;
}

// ---------------------------------------------------------------------------------------------
// A hostile server: workflow commands and Markdown/HTML injection in everything it says
// ---------------------------------------------------------------------------------------------

export interface HostileServerOptions extends StartServerOptions, FixturePortOption {
  /** pollInterval (ms) the fixture advertises on its tasks (default 100). */
  pollIntervalMs?: number;
  /** Whether task IDs carry an injection too (default true). */
  hostileTaskIds?: boolean;
}

/**
 * Starts `__tests__/fixtures/hostile-server.mjs` (2025-11-25 tasks; it picks its own free port) and waits for
 * `LISTENING <port>`. Its tools: `report` (hostile status messages, then a hostile result), `explode` (a hostile
 * isError result), `reject` (a hostile JSON-RPC error), and tools whose names are injections.
 */
export function startHostileServer(opts: HostileServerOptions = {}): Promise<RunningServer> {
  return launch({
    name: 'hostile-server',
    args: () => [...preloadArgs(EXIT_WITH_PARENT_PRELOAD), HOSTILE_SERVER],
    env: (port) => {
      const env: Record<string, string> = { ...baseEnv(), ...opts.env, PORT: String(port) };
      if (opts.pollIntervalMs !== undefined) env.FIXTURE_POLL_INTERVAL = String(opts.pollIntervalMs);
      if (opts.hostileTaskIds === false) env.HOSTILE_TASK_IDS = '0';
      return env;
    },
    initialPort: opts.port ?? 0,
    ready: /^LISTENING (\d+)$/m,
    probePort: false,
    startTimeoutMs: opts.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS,
  });
}
