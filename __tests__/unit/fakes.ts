/**
 * Plain fakes of our own ports (JobStore, TaskClient/TaskConnection, Clock, Log, ActionHost) for the unit tests, and
 * builders for job records. No module mocks: every fake is an ordinary object implementing the interface.
 */
import { JobError } from '../../src/core/errors.js';
import type { CommandContext } from '../../src/core/commands/context.js';
import type {
  Clock,
  JobStore,
  KeyClaim,
  Log,
  ServerTarget,
  SubmittedTask,
  TaskClient,
  TaskConnection,
  TaskOutcome,
  TaskSnapshot,
  ToolCall,
  WatchOptions,
} from '../../src/core/ports.js';
import {
  applyChange,
  createRecord,
  type JobRecord,
  type NewJob,
  type RemoteRef,
  type SessionRef,
} from '../../src/core/record.js';
import type { ActionHost, HostLog } from '../../src/action/host.js';

export const T0 = new Date('2025-06-01T12:00:00.000Z');
export const SERVER_URL = 'http://mcp.test/mcp';

/** Runs `fn` and returns the JobError it throws; fails the test when it throws nothing or something else. */
export function thrown(fn: () => unknown): JobError {
  try {
    fn();
  } catch (error) {
    if (error instanceof JobError) return error;
    throw error;
  }
  throw new Error('expected a JobError, but nothing was thrown');
}

/** Awaits `promise` and returns the JobError it rejects with; fails the test otherwise. */
export async function rejected(promise: Promise<unknown>): Promise<JobError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof JobError) return error;
    throw error;
  }
  throw new Error('expected a JobError rejection, but the promise resolved');
}

/** A promise that never resolves and rejects with the signal's reason once it aborts. */
export function untilAborted(signal: AbortSignal | undefined): Promise<never> {
  return new Promise<never>((_resolve, reject) => {
    if (signal === undefined) return;
    if (signal.aborted) return reject(signal.reason);
    signal.addEventListener('abort', () => reject(signal.reason), { once: true });
  });
}

export interface Deferred<T> {
  promise: Promise<T>;
  resolve(value: T): void;
  reject(error: unknown): void;
}

export function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/**
 * A job store in memory. `puts` keeps a copy of every record written (by `put` or `update`), in order. Every call
 * is atomic (no await inside), so changes and job-key claims are serialised as a real store serialises them.
 */
export class MemoryStore implements JobStore {
  readonly description = 'the in-memory test store';
  readonly puts: JobRecord[] = [];
  private readonly records = new Map<string, JobRecord>();
  /** Job-key turns: `<instance>/<key>` → the job ID of each claimed turn (index = turn - 1). */
  readonly claims = new Map<string, Array<string | undefined>>();

  constructor(private readonly trace: string[] = []) {}

  async get(instance: string, jobId: string): Promise<JobRecord | undefined> {
    const record = this.records.get(`${instance}/${jobId}`);
    return record === undefined ? undefined : structuredClone(record);
  }

  async put(record: JobRecord): Promise<void> {
    const copy = structuredClone(record);
    this.trace.push(`put:${record.status}`);
    this.puts.push(copy);
    this.records.set(`${record.instance}/${record.jobId}`, copy);
  }

  async update(
    instance: string,
    jobId: string,
    mutate: (current: JobRecord) => JobRecord | undefined,
  ): Promise<JobRecord | undefined> {
    const current = this.records.get(`${instance}/${jobId}`);
    if (current === undefined) return undefined;
    const next = mutate(structuredClone(current));
    if (next === undefined) return structuredClone(current);
    const copy = structuredClone(next);
    this.trace.push(`put:${next.status}`);
    this.puts.push(copy);
    this.records.set(`${instance}/${jobId}`, copy);
    return structuredClone(copy);
  }

  async result(record: JobRecord): Promise<unknown> {
    return record.result;
  }

  async remove(instance: string, jobId: string): Promise<boolean> {
    this.trace.push(`remove:${jobId}`);
    return this.records.delete(`${instance}/${jobId}`);
  }

  async claimKey(instance: string, jobKey: string, seq: number, jobId: string): Promise<string | undefined> {
    const turns = this.claims.get(`${instance}/${jobKey}`) ?? [];
    this.claims.set(`${instance}/${jobKey}`, turns);
    if (turns.length < seq) {
      turns.length = seq;
      turns[seq - 1] = jobId;
      return jobId;
    }
    return turns[seq - 1];
  }

  async lastClaim(instance: string, jobKey: string): Promise<KeyClaim | undefined> {
    const turns = this.claims.get(`${instance}/${jobKey}`) ?? [];
    return turns.length === 0 ? undefined : { seq: turns.length, jobId: turns.at(-1) };
  }

  async list(instance: string): Promise<JobRecord[]> {
    return [...this.records.values()]
      .filter((r) => r.instance === instance)
      .sort((a, b) => Date.parse(b.createdAt) - Date.parse(a.createdAt))
      .map((r) => structuredClone(r));
  }

  async latest(instance: string): Promise<JobRecord | undefined> {
    return (await this.list(instance))[0];
  }

  async findByKey(instance: string, jobKey: string): Promise<JobRecord | undefined> {
    return (await this.list(instance)).find((r) => r.jobKey === jobKey);
  }

  /** Seeds a record without counting it as a put. */
  seed(record: JobRecord): JobRecord {
    this.records.set(`${record.instance}/${record.jobId}`, structuredClone(record));
    return record;
  }

  stored(record: Pick<JobRecord, 'instance' | 'jobId'>): JobRecord {
    const found = this.records.get(`${record.instance}/${record.jobId}`);
    if (found === undefined) throw new Error(`no record ${record.jobId}`);
    return structuredClone(found);
  }
}

/**
 * A clock under the test's control. `sleep` records the requested time and, by default, advances the clock by it
 * and resolves at once; with `hang` it waits for its signal to abort instead.
 */
export class FakeClock implements Clock {
  readonly sleeps: number[] = [];
  hang = false;
  private time: number;

  constructor(start: Date = T0) {
    this.time = start.getTime();
  }

  now(): Date {
    return new Date(this.time);
  }

  advance(ms: number): void {
    this.time += ms;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    this.sleeps.push(ms);
    if (this.hang) return untilAborted(signal);
    this.time += ms;
    return Promise.resolve();
  }
}

export class FakeLog implements Log {
  readonly infos: string[] = [];
  readonly warnings: string[] = [];
  readonly debugs: string[] = [];
  info(message: string): void {
    this.infos.push(message);
  }
  warning(message: string): void {
    this.warnings.push(message);
  }
  debug(message: string): void {
    this.debugs.push(message);
  }
}

/** A scripted connection: each operation calls the matching `on…` handler, which a test replaces. */
export class FakeConnection implements TaskConnection {
  readonly submitCalls: Array<{ call: ToolCall; signal: AbortSignal | undefined }> = [];
  readonly watchCalls: Array<{ remote: RemoteRef; options: WatchOptions }> = [];
  readonly cancelCalls: Array<{ remote: RemoteRef; signal: AbortSignal | undefined }> = [];
  readonly snapshotCalls: RemoteRef[] = [];
  sessionTasksCalls = 0;
  closed = 0;

  /** The session `session()` reports (what submit records before it sends the call). */
  sessionRef: SessionRef = sessionRef();
  /** Default: the session holds no task. */
  onSessionTasks: (signal?: AbortSignal) => Promise<TaskSnapshot[] | undefined> = async () => [];

  onSubmit: (call: ToolCall, signal?: AbortSignal) => Promise<SubmittedTask> = async () => {
    throw new Error('submit is not scripted in this test');
  };
  /** Default: a task that never ends (until the watch signal aborts). */
  onWatch: (remote: RemoteRef, options: WatchOptions) => Promise<TaskOutcome> = (_remote, options) =>
    untilAborted(options.signal);
  /** Default: the server reports the task cancelled. */
  onCancel: (remote: RemoteRef, signal?: AbortSignal) => Promise<TaskSnapshot> = async (remote) => ({
    taskId: remote.taskId,
    status: 'cancelled',
  });
  onSnapshot: (remote: RemoteRef, signal?: AbortSignal) => Promise<TaskSnapshot> = async (remote) => ({
    taskId: remote.taskId,
    status: 'working',
  });

  constructor(private readonly trace: string[] = []) {}

  session(): SessionRef {
    return this.sessionRef;
  }
  sessionTasks(signal?: AbortSignal): Promise<TaskSnapshot[] | undefined> {
    this.trace.push('sessionTasks');
    this.sessionTasksCalls++;
    return this.onSessionTasks(signal);
  }
  submit(call: ToolCall, signal?: AbortSignal): Promise<SubmittedTask> {
    this.trace.push('submit');
    this.submitCalls.push({ call, signal });
    return this.onSubmit(call, signal);
  }
  snapshot(remote: RemoteRef, signal?: AbortSignal): Promise<TaskSnapshot> {
    this.snapshotCalls.push(remote);
    return this.onSnapshot(remote, signal);
  }
  watch(remote: RemoteRef, options: WatchOptions): Promise<TaskOutcome> {
    this.trace.push('watch');
    this.watchCalls.push({ remote, options });
    return this.onWatch(remote, options);
  }
  cancel(remote: RemoteRef, signal?: AbortSignal): Promise<TaskSnapshot> {
    this.trace.push('cancel');
    this.cancelCalls.push({ remote, signal });
    return this.onCancel(remote, signal);
  }
  async close(): Promise<void> {
    this.closed++;
  }
}

/** A task client whose `open` hands out `connection` unless `onOpen` says otherwise. */
export class FakeTaskClient implements TaskClient {
  readonly opens: Array<{
    target: ServerTarget;
    join: SessionRef | undefined;
    signal: AbortSignal | undefined;
    deadline: number | undefined;
  }> = [];
  onOpen: ((attempt: number, signal?: AbortSignal) => Promise<TaskConnection>) | undefined;

  constructor(
    readonly connection: FakeConnection,
    private readonly trace: string[] = [],
  ) {}

  open(target: ServerTarget, join?: SessionRef, signal?: AbortSignal, deadline?: number): Promise<TaskConnection> {
    this.trace.push('open');
    this.opens.push({ target, join, signal, deadline });
    return this.onOpen === undefined ? Promise.resolve(this.connection) : this.onOpen(this.opens.length, signal);
  }
}

export interface Harness {
  ctx: CommandContext;
  store: MemoryStore;
  tasks: FakeTaskClient;
  conn: FakeConnection;
  clock: FakeClock;
  log: FakeLog;
  /** The order of store writes (`put:<status>`) and server calls (`open`, `submit`, `watch`, `cancel`). */
  trace: string[];
}

export function harness(): Harness {
  const trace: string[] = [];
  const store = new MemoryStore(trace);
  const conn = new FakeConnection(trace);
  const tasks = new FakeTaskClient(conn, trace);
  const clock = new FakeClock();
  const log = new FakeLog();
  return { ctx: { store, tasks, clock, log, random: () => 0 }, store, tasks, conn, clock, log, trace };
}

export function remoteRef(taskId = 'task-1'): RemoteRef {
  return { ...sessionRef(`session-of-${taskId}`), taskId };
}

export function sessionRef(sessionId = 'session-of-task-1'): SessionRef {
  return {
    generation: '2025-11-25',
    protocolVersion: '2025-11-25',
    sessionId,
    serverCapabilities: { tasks: { requests: { tools: { call: {} } } } },
    endpointId: `mcp-jobs:${SERVER_URL}`,
  };
}

export function queuedJob(overrides: Partial<NewJob> = {}): JobRecord {
  return createRecord({
    instance: 'default',
    serverUrl: SERVER_URL,
    tool: 'research',
    arguments: { topic: 'tides' },
    redactedArguments: [],
    now: T0,
    ...overrides,
  });
}

/** A job whose submit succeeded: running, with a remote task. */
export function runningJob(overrides: Partial<NewJob> = {}, taskId = 'task-1'): JobRecord {
  const queued = queuedJob(overrides);
  const now = new Date((overrides.now ?? T0).getTime() + 1_000);
  return applyChange(queued, { status: 'running', remoteStatus: 'working', remote: remoteRef(taskId) }, now).record;
}

/** A job that ended with the given status. */
export function endedJob(status: 'completed' | 'failed' | 'canceled'): JobRecord {
  const running = runningJob();
  const now = new Date(T0.getTime() + 5_000);
  switch (status) {
    case 'completed':
      return applyChange(
        running,
        { status, remoteStatus: 'completed', result: { content: [{ type: 'text', text: 'done' }] } },
        now,
      ).record;
    case 'failed':
      return applyChange(
        running,
        { status, remoteStatus: 'failed', error: { code: 'TASK_FAILED', message: 'boom' } },
        now,
      ).record;
    case 'canceled':
      return applyChange(running, { status, remoteStatus: 'cancelled', cancelReason: 'user' }, now).record;
  }
}

export function unreachable(message = 'fetch failed'): JobError {
  return new JobError('SERVER_UNREACHABLE', `Cannot reach the MCP server ${SERVER_URL}: ${message}`, {
    retryable: true,
  });
}

/** An ActionHost over plain maps, recording everything the step tells the runner. */
export class FakeHost implements ActionHost {
  readonly secrets: string[] = [];
  readonly outputs = new Map<string, string>();
  readonly outputCalls: Array<[string, string]> = [];
  readonly saved = new Map<string, string>();
  readonly summaries: string[] = [];
  readonly failures: Array<{ message: string; title: string | undefined }> = [];
  readonly reads: string[] = [];
  readonly warnings: string[] = [];
  readonly infos: string[] = [];
  readonly log: HostLog;

  constructor(
    private readonly inputs: Record<string, string> = {},
    private readonly environment: Record<string, string | undefined> = {},
  ) {
    this.log = {
      info: (message) => this.infos.push(message),
      warning: (message) => this.warnings.push(message),
      debug: () => undefined,
      error: () => undefined,
      notice: (message) => this.infos.push(message),
      group: (_name, fn) => fn(),
    };
  }

  readonly paths: string[] = [];
  addPath(dir: string): void {
    this.paths.push(dir);
  }

  input(name: string): string {
    this.reads.push(name);
    return this.inputs[name] ?? '';
  }
  setOutput(name: string, value: string): void {
    this.outputCalls.push([name, value]);
    this.outputs.set(name, value);
  }
  setSecret(value: string): void {
    this.secrets.push(value);
  }
  saveState(name: string, value: string): void {
    this.saved.set(name, value);
  }
  state(name: string): string {
    return this.saved.get(name) ?? '';
  }
  env(name: string): string | undefined {
    return this.environment[name];
  }
  async summary(markdown: string): Promise<void> {
    this.summaries.push(markdown);
  }
  fail(message: string, title?: string): void {
    this.failures.push({ message, title });
  }
}
