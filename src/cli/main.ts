/**
 * The terminal host: parses the command line once (args.ts), builds the job core's ports, runs one host-neutral
 * command (the same core functions the Action's steps run) and renders its outcome as lines or JSON, with an exit
 * code per outcome. Messages go to stderr; stdout carries only the command's answer.
 *
 * Startup stays light: the MCP client and @actions/* are loaded (import()) only when a server or a shared store is
 * really used, so `jobs list` and `jobs show` of an ended job read the records and exit.
 */
import { cancelJob } from '../core/commands/cancel.js';
import type { CommandContext } from '../core/commands/context.js';
import { resolveJob } from '../core/commands/context.js';
import { listJobs } from '../core/commands/list.js';
import { pruneJobs } from '../core/commands/prune.js';
import { showJob } from '../core/commands/show.js';
import { submitJob } from '../core/commands/submit.js';
import { waitJob, type WaitResult } from '../core/commands/wait.js';
import { watchJob } from '../core/commands/watch.js';
import { describeError, isJobError, JobError } from '../core/errors.js';
import type { InputResponses, JsonObject } from '../core/parse.js';
import {
  systemClock,
  type JobStore,
  type Log,
  type TaskClient,
  type TaskConnection,
  type ToolInfo,
} from '../core/ports.js';
import { serverName, type JobRecord } from '../core/record.js';
import { isTerminal } from '../core/status.js';
import { inert, masker, redactSecrets, secretEnvValues } from '../core/text.js';
import { lazyMcpTaskClient, lazyPlacementTaskClient } from '../runner/lazy.js';
import { serverUrlSecrets } from '../action/secrets.js';
import { onStopSignals, type Interrupt } from '../action/signals.js';
import { createJobStore } from '../store/select.js';
import { CLIENT_INFO } from '../version.js';
import { parseInvocation, type Command, type GlobalSettings, type Invocation, type ServerSelection } from './args.js';
import { EXIT, exitForError, exitForWait } from './exit.js';
import { helpText } from './help.js';
import {
  jobJson,
  listLines,
  showLines,
  statusSummary,
  toolJson,
  toolLines,
  updateJson,
  updateLine,
  resultLines,
} from './render.js';
import { describeFlags, parseToolFlags, toolFlags } from './tool-flags.js';

export interface CliIo {
  stdout(text: string): Promise<void>;
  stderr(text: string): void;
  env: NodeJS.ProcessEnv;
}

/** Everything secret this process knows (header values, URL query values): replaced by *** in every message. */
class Secrets {
  private readonly values = new Set<string>();
  add(value: string): void {
    if (value.length >= 3) this.values.add(value);
  }
  addUrl(url: string): void {
    for (const value of serverUrlSecrets(url)) this.add(value);
  }
  mask(text: string): string {
    return this.values.size === 0 ? text : redactSecrets(text, this.values);
  }
}

function stderrLog(io: CliIo, secrets: Secrets): Log {
  const debug = io.env.MCP_JOBS_DEBUG === '1' || io.env.RUNNER_DEBUG === '1';
  const line = (prefix: string, message: string): void => io.stderr(`${prefix}${secrets.mask(message)}\n`);
  return {
    info: (m) => line('', m),
    notice: (m) => line('', m),
    warning: (m) => line('warning: ', m),
    debug: (m) => (debug ? line('debug: ', m) : undefined),
  };
}

/** A task client whose first `open` hands out a connection already open (the one the tool's schema came from). */
function primed(tasks: TaskClient, first: TaskConnection | undefined): TaskClient {
  let spare = first;
  return {
    open: (target, join, signal, deadline) => {
      const connection = spare;
      spare = undefined;
      return connection !== undefined && join === undefined
        ? Promise.resolve(connection)
        : tasks.open(target, join, signal, deadline);
    },
  };
}

class Cli {
  private readonly secrets = new Secrets();
  private readonly log: Log;
  private store?: JobStore;

  constructor(
    private readonly io: CliIo,
    private readonly global: GlobalSettings,
  ) {
    for (const value of Object.values(global.headers)) this.secrets.add(value);
    if (global.server !== undefined) this.secrets.addUrl(global.server.url);
    this.log = stderrLog(io, this.secrets);
  }

  context(inputResponses?: InputResponses, tasks?: TaskClient): CommandContext {
    const store = this.jobStore();
    return { store, tasks: tasks ?? this.tasks({ inputResponses }), clock: systemClock, log: this.log };
  }

  private jobStore(): JobStore {
    this.store ??= createJobStore({
      kind: this.global.store,
      stateDir: this.global.stateDir,
      retentionDays: 1,
      log: this.log,
      env: this.io.env,
    });
    return this.store;
  }

  /**
   * The task client, as the Action builds it (src/runner/placement.ts): task servers over HTTP; stdio servers and
   * servers without tasks in the job runner (`--background`) or in this process (a call this process waits for).
   */
  private tasks(options: { inputResponses?: InputResponses | undefined; inProcess?: boolean } = {}): TaskClient {
    const inputResponses = options.inputResponses === undefined ? {} : { inputResponses: options.inputResponses };
    return lazyPlacementTaskClient({
      stateDir: this.global.stateDir,
      instance: this.global.instance,
      store: this.global.store,
      retentionDays: 1,
      records: this.jobStore(),
      log: this.log,
      fallback: 'background',
      inProcess: options.inProcess ?? false,
      env: this.io.env,
      ...inputResponses,
      http: lazyMcpTaskClient({ ...inputResponses, warn: (message) => this.log.warning(message) }),
    });
  }

  mask(text: string): string {
    return this.secrets.mask(text);
  }

  /** Masks the URL of a job's server before anything about the job is printed. */
  known(job: JobRecord): JobRecord {
    this.secrets.addUrl(serverName(job.server));
    return job;
  }

  async print(human: string[] | string, json: unknown): Promise<void> {
    const text = this.global.json
      ? `${JSON.stringify(json, null, 2)}\n`
      : `${([] as string[]).concat(human).join('\n')}\n`;
    await this.io.stdout(this.secrets.mask(text));
  }

  async printJob(job: JobRecord, human: string[], exitCode: number): Promise<number> {
    await this.print(human, { data: jobJson(job), exit_code: exitCode });
    return exitCode;
  }

  server(command: string): ServerSelection {
    if (this.global.server === undefined) {
      throw new JobError(
        'INVALID_INPUT',
        `mcp-jobs ${command} needs a server: give --server URL or --command "CMDLINE" before the command`,
        { input: '--server' },
      );
    }
    return this.global.server;
  }

  async withResult(job: JobRecord): Promise<JobRecord> {
    if (job.resultRef === undefined || job.result !== undefined) return job;
    return { ...job, result: await this.store!.result(job) };
  }

  async run(command: Command): Promise<number> {
    switch (command.name) {
      case 'help':
        await this.io.stdout(`${helpText(command.topic)}\n`);
        return EXIT.completed;
      case 'version':
        await this.io.stdout(
          this.global.json
            ? `${JSON.stringify({ version: CLIENT_INFO.version })}\n`
            : `mcp-jobs ${CLIENT_INFO.version}\n`,
        );
        return EXIT.completed;
      case 'tools': {
        const tools = await this.listTools(this.server('tools'));
        await this.print(toolLines(tools.tools), tools.tools.map(toolJson));
        await tools.connection.close();
        return EXIT.completed;
      }
      case 'call':
        return this.call(command);
      case 'list': {
        const jobs = await listJobs(this.context(), { instance: this.global.instance, ...command });
        for (const job of jobs) this.known(job);
        await this.print(
          listLines(jobs),
          jobs.map((job) => jobJson(job, { withResult: false })),
        );
        return EXIT.completed;
      }
      case 'show': {
        const ctx = this.context();
        const shown = await showJob(ctx, {
          instance: this.global.instance,
          job: command.job,
          headers: this.global.headers,
        });
        const job = await this.withResult(this.known(shown.record));
        await this.print(showLines(job, shown.stale), {
          data: jobJson(job),
          contacted_server: shown.contacted,
          stale: shown.stale ?? null,
        });
        return EXIT.completed;
      }
      case 'wait':
      case 'watch':
        return this.follow(command);
      case 'cancel': {
        const ctx = this.context();
        this.known(await resolveJob(ctx, this.global.instance, command.job));
        const { record, sent } = await cancelJob(ctx, {
          instance: this.global.instance,
          job: command.job,
          headers: this.global.headers,
          ...(command.reason === undefined ? {} : { reason: command.reason }),
        });
        const human = [
          statusSummary(record),
          ...(sent
            ? []
            : [
                `${record.jobId}: nothing was sent (the job had ${record.remote === undefined ? 'no task' : 'already ended'})`,
              ]),
        ];
        await this.print(human, { data: jobJson(record, { withResult: false }), sent, exit_code: EXIT.completed });
        return EXIT.completed;
      }
      case 'prune': {
        const removed = await pruneJobs(this.context(), {
          instance: this.global.instance,
          dryRun: command.dryRun,
          ...(command.olderThanMs === undefined ? {} : { olderThanMs: command.olderThanMs }),
        });
        const verb = command.dryRun ? 'would remove' : 'removed';
        await this.print(
          [...listLines(removed), `${verb} ${removed.length} ended job${removed.length === 1 ? '' : 's'}`],
          removed.map((job) => jobJson(job, { withResult: false })),
        );
        return EXIT.completed;
      }
    }
  }

  private async listTools(server: ServerSelection): Promise<{ tools: ToolInfo[]; connection: TaskConnection }> {
    const connection =
      server.stdio === undefined
        ? await lazyMcpTaskClient({ warn: (message) => this.log.warning(message) }).open(server)
        : await openStdioForTools(server, server.stdio, this.io.env);
    try {
      if (connection.tools === undefined)
        throw new JobError('PROTOCOL_ERROR', `${server.url}: this connection cannot list tools`);
      return { tools: await connection.tools(), connection };
    } catch (error) {
      await connection.close();
      throw error;
    }
  }

  private async call(command: Extract<Command, { name: 'call' }>): Promise<number> {
    const server = this.server('call');
    let args: JsonObject = command.args ?? {};
    let connection: TaskConnection | undefined;
    const wantsFlags = command.toolArgv.includes('--help');
    if (command.toolArgv.length > 0) {
      const listed = await this.listTools(server);
      connection = listed.connection;
      const tool = listed.tools.find((t) => t.name === command.tool);
      if (tool === undefined) {
        await connection.close();
        throw new JobError(
          'TOOL_NOT_FOUND',
          `${server.url} has no tool '${command.tool.slice(0, 80)}' (it has: ${listed.tools.map((t) => t.name).join(', ') || 'no tools'})`,
          { input: 'tool' },
        );
      }
      if (wantsFlags) {
        await connection.close();
        const flags = describeFlags(toolFlags(tool.inputSchema));
        await this.io.stdout(
          `Usage: mcp-jobs --server URL call ${tool.name} [flags] [--args JSON] [--background] [--timeout DUR] [--job-key K]\n${tool.description ?? ''}\n\n${flags.length === 0 ? 'It takes no arguments.' : `Flags:\n  ${flags.join('\n  ')}`}\n`,
        );
        return EXIT.completed;
      }
      try {
        args = parseToolFlags(command.tool, tool.inputSchema, command.toolArgv, args);
      } catch (error) {
        await connection.close();
        throw error;
      }
    }
    const interrupt = onStopSignals((m) => this.log.warning(m));
    try {
      // A call this process waits for runs here when it needs no server-side task; one left running in the
      // background goes to the job runner. The connection tool flags came from is reused for an HTTP task server
      // (a stdio server's was this process's own, and is closed).
      const tasks = this.tasks({ inProcess: !command.background });
      if (server.stdio !== undefined) await connection?.close();
      const ctx = this.context(undefined, server.stdio === undefined ? primed(tasks, connection) : tasks);
      const job = await submitJob(ctx, {
        instance: this.global.instance,
        server: {
          url: server.url,
          headers: server.headers,
          protocol: server.protocol,
          ...(server.stdio === undefined ? {} : { stdio: server.stdio }),
        },
        tool: command.tool,
        arguments: args,
        redact: [],
        interrupt: interrupt.signal,
        ...(command.jobKey === undefined ? {} : { jobKey: command.jobKey }),
        ...(command.timeoutMs === undefined ? {} : { deadline: new Date(Date.now() + command.timeoutMs) }),
      });
      if (command.background || interrupt.received() !== undefined) {
        const code = interrupt.received() === undefined ? EXIT.completed : EXIT.interrupted;
        return this.printJob(job, [`Job submitted: ${job.jobId} (task: ${job.remote?.taskId ?? 'none'})`], code);
      }
      this.log.info(`Job submitted: ${job.jobId} (task: ${job.remote?.taskId ?? 'none'})`);
      const result = await waitJob(this.context(undefined, tasks), {
        instance: this.global.instance,
        job: job.jobId,
        headers: this.global.headers,
        cancelOnTimeout: true,
        interrupt: interrupt.signal,
      });
      return this.finished(result);
    } finally {
      interrupt.dispose();
    }
  }

  private async follow(command: Extract<Command, { name: 'wait' | 'watch' }>): Promise<number> {
    const ctx = this.context(command.inputResponses);
    // watch prints every change on stdout: the same lines on stderr would only repeat them.
    if (command.name === 'watch') ctx.log = { ...ctx.log, info: (m) => ctx.log.debug(m) };
    const job = this.known(await resolveJob(ctx, this.global.instance, command.job));
    const interrupt: Interrupt = onStopSignals((m) => this.log.warning(m));
    // Said once the signal handlers are in place: a signal from here on cancels the task.
    if (command.name === 'wait' && !isTerminal(job.status)) {
      this.log.info(
        `Waiting for ${job.jobId} (${inert(job.tool)}, task ${inert(job.remote?.taskId ?? 'none')}): ${job.status}`,
      );
    }
    const request = {
      instance: this.global.instance,
      job: job.jobId,
      headers: this.global.headers,
      cancelOnTimeout: command.cancelOnTimeout,
      interrupt: interrupt.signal,
      answersInput: command.inputResponses !== undefined,
      ...(command.timeoutMs === undefined ? {} : { timeoutMs: command.timeoutMs }),
    };
    try {
      if (command.name === 'wait') return this.finished(await waitJob(ctx, request));
      let printed: number | undefined;
      const result = await watchJob(ctx, request, (update) => {
        // The end is printed below with the result; every other update is a line (or a JSON line) as it happens.
        if (update.phase === 'end') return;
        printed = update.record.revision;
        void this.io.stdout(this.secrets.mask(`${this.global.json ? updateJson(update) : updateLine(update)}\n`));
      });
      const job = await this.withResult(result.record);
      const code = exitForWait(result);
      const end = { record: job, phase: 'end' as const };
      const last = printed === job.revision ? [] : [updateLine(end)];
      const lines = this.global.json
        ? [updateJson(end)]
        : [...last, ...(job.result === undefined ? [] : resultLines(job))];
      await this.io.stdout(this.secrets.mask(`${lines.join('\n')}\n`));
      return code;
    } finally {
      interrupt.dispose();
    }
  }

  private async finished(result: WaitResult): Promise<number> {
    const job = await this.withResult(result.record);
    const code = exitForWait(result);
    if (result.end === 'timeout')
      this.log.warning(`${job.jobId}: gave up waiting; the task is left running on the server`);
    return this.printJob(job, showLines(job), code);
  }
}

/** Runs one command line; resolves to the exit code. Every error becomes a message (and a JSON error document). */
export async function runCli(argv: string[], io: CliIo): Promise<number> {
  let invocation: Invocation | undefined;
  const commandAt = argv.findIndex((arg) => !arg.startsWith('--'));
  const wantsJson = argv.slice(0, commandAt < 0 ? argv.length : commandAt).includes('--json');
  let cli: Cli | undefined;
  try {
    invocation = parseInvocation(argv, io.env);
    cli = new Cli(io, invocation.global);
    return await cli.run(invocation.command);
  } catch (error) {
    const json = invocation?.global.json ?? wantsJson;
    const known = isJobError(error) && error.code !== 'INTERNAL';
    const code = known ? exitForError(error.code) : EXIT.failed;
    const errorCode = known ? error.code : 'INTERNAL';
    const message = known
      ? error.message
      : `unexpected error: ${describeError(error)}. This is a bug in mcp-jobs ${CLIENT_INFO.version} (Node ${process.version}); please report it`;
    const mask = (text: string): string => cli?.mask(text) ?? text;
    io.stderr(`mcp-jobs: ${errorCode}: ${mask(message)}\n`);
    if (!known && error instanceof Error && error.stack && io.env.MCP_JOBS_DEBUG === '1') io.stderr(`${error.stack}\n`);
    if (json) {
      await io.stdout(
        `${JSON.stringify({ error: { code: errorCode, message: mask(message), exit_code: code } }, null, 2)}\n`,
      );
    }
    return code;
  }
}

/** The process: stdout written in full before exit, open connections never keep it alive. */
export function cliMain(argv: string[] = process.argv.slice(2)): void {
  const io: CliIo = {
    stdout: (text) => new Promise<void>((resolve) => process.stdout.write(text, () => resolve())),
    stderr: (text) => void process.stderr.write(text),
    env: process.env,
  };
  void runCli(argv, io).then((code) => {
    process.exitCode = code;
    process.stderr.write('', () => process.exit(code));
  });
}

/**
 * A connection to a stdio server of this process's own, for listing its tools (`tools`, tool flags): the server is
 * started, asked, and ended when the connection closes. The call itself goes where calls run (the job runner).
 */
async function openStdioForTools(
  target: ServerSelection,
  stdio: { command: string[]; cwd: string },
  env: NodeJS.ProcessEnv,
): Promise<TaskConnection> {
  const [{ McpTaskClient }, { StdioServerProcess }] = await Promise.all([
    import('../mcp/task-client.js'),
    import('../mcp/stdio.js'),
  ]);
  const server = new StdioServerProcess({ ...stdio, env, mask: masker(secretEnvValues(env)) });
  let connection: TaskConnection;
  try {
    connection = await new McpTaskClient({ transport: () => server }).open({ ...target, protocol: '2025-11-25' });
  } catch (error) {
    await server.close();
    throw error;
  }
  return {
    ...bindAll(connection),
    close: async () => {
      await connection.close().catch(() => undefined);
      await server.close();
    },
  };
}

/** The methods of a connection as plain functions bound to it (to wrap one of them). */
function bindAll(connection: TaskConnection): TaskConnection {
  return {
    session: () => connection.session(),
    submit: (call, signal) => connection.submit(call, signal),
    sessionTasks: (signal) => connection.sessionTasks(signal),
    snapshot: (remote, signal) => connection.snapshot(remote, signal),
    watch: (remote, options) => connection.watch(remote, options),
    cancel: (remote, signal, why) => connection.cancel(remote, signal, why),
    close: () => connection.close(),
    ...(connection.tools === undefined ? {} : { tools: (signal?: AbortSignal) => connection.tools!(signal) }),
  };
}
