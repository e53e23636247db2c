/**
 * A stdio MCP server as a child process and as the MCP client's transport: newline-delimited JSON-RPC on its stdin
 * and stdout, no shell. Its stderr goes to a log file (masked), whose last lines explain a server that failed. It
 * ends the way the MCP stdio transport asks: close its stdin, SIGTERM after a grace, SIGKILL after another.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { dirname } from 'node:path';
import { ReadBuffer, serializeMessage, type JSONRPCMessage, type Transport } from '@modelcontextprotocol/client';

export { masker, secretEnvValues } from '../core/text.js';

/** How long a server may take to exit after its stdin closed, and again after SIGTERM. */
export const STDIO_GRACE_MS = 2_000;
export const STDERR_TAIL_LINES = 20;

export interface StdioProcessOptions {
  command: string[];
  cwd: string;
  /** The server's whole environment (the step's: that is how users give it keys). Never logged. */
  env: NodeJS.ProcessEnv;
  /** Where its stderr is kept (created owner-only). */
  stderrLog?: string;
  /** Applied to every stderr line before it is kept or shown (secrets of the environment). */
  mask: (line: string) => string;
}

export interface ProcessExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Set when the program could not be started at all (ENOENT, EACCES). */
  spawnError?: string;
}

export class StdioServerProcess implements Transport {
  onclose?: (() => void) | undefined;
  onerror?: ((error: Error) => void) | undefined;
  onmessage?: ((message: JSONRPCMessage) => void) | undefined;
  /** stdio has no MCP session ID; the client reads these like the HTTP transport's. */
  readonly sessionId: string | undefined = undefined;
  protocolVersion: string | undefined;
  private child: ChildProcess | undefined;
  private readonly buffer = new ReadBuffer();
  private readonly tail: string[] = [];
  private partial = '';
  private log: WriteStream | undefined;
  private exitInfo: ProcessExit | undefined;
  private readonly exited: Promise<ProcessExit>;
  private markExit!: (exit: ProcessExit) => void;
  private closing = false;

  constructor(private readonly options: StdioProcessOptions) {
    this.exited = new Promise((resolve) => (this.markExit = resolve));
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Resolves when the process has exited (or could not start). */
  exit(): Promise<ProcessExit> {
    return this.exited;
  }

  get hasExited(): ProcessExit | undefined {
    return this.exitInfo;
  }

  setProtocolVersion(version: string): void {
    this.protocolVersion = version;
  }

  start(): Promise<void> {
    const [program, ...args] = this.options.command;
    if (this.options.stderrLog !== undefined) {
      mkdirSync(dirname(this.options.stderrLog), { recursive: true, mode: 0o700 });
      this.log = createWriteStream(this.options.stderrLog, { flags: 'a', mode: 0o600 });
    }
    return new Promise<void>((resolve, reject) => {
      const child = spawn(program!, args, {
        cwd: this.options.cwd,
        env: this.options.env,
        stdio: ['pipe', 'pipe', 'pipe'],
        shell: false,
        windowsHide: true,
      });
      this.child = child;
      let started = false;
      child.once('spawn', () => {
        started = true;
        resolve();
      });
      child.once('error', (error) => {
        if (!started) {
          this.finish({ code: null, signal: null, spawnError: error.message });
          reject(error);
        } else this.onerror?.(error);
      });
      child.once('close', (code, signal) => this.finish({ code, signal }));
      child.stdout!.on('data', (chunk: Buffer) => {
        this.buffer.append(chunk);
        for (;;) {
          let message: JSONRPCMessage | null;
          try {
            message = this.buffer.readMessage();
          } catch (error) {
            this.onerror?.(error as Error);
            continue;
          }
          if (message === null) break;
          this.onmessage?.(message);
        }
      });
      child.stderr!.on('data', (chunk: Buffer) => this.stderr(chunk.toString('utf8')));
      child.stdin!.on('error', (error) => this.onerror?.(error));
    });
  }

  private stderr(text: string): void {
    const lines = (this.partial + text).split(/\r?\n/);
    this.partial = lines.pop() ?? '';
    for (const line of lines) this.keep(line);
  }

  private keep(line: string): void {
    const masked = this.options.mask(line);
    this.tail.push(masked);
    if (this.tail.length > STDERR_TAIL_LINES) this.tail.shift();
    this.log?.write(`${masked}\n`);
  }

  private finish(exit: ProcessExit): void {
    if (this.exitInfo !== undefined) return;
    if (this.partial !== '') this.keep(this.partial);
    this.partial = '';
    this.exitInfo = exit;
    this.log?.end();
    this.markExit(exit);
    this.onclose?.();
  }

  /** The last lines the server wrote to stderr (masked), oldest first. */
  stderrTail(): string[] {
    return [...this.tail];
  }

  /** `exited with code 1`, `was killed by SIGKILL`, `could not be started (spawn x ENOENT)`. */
  describeExit(exit: ProcessExit | undefined = this.exitInfo): string {
    if (exit === undefined) return 'is still running';
    if (exit.spawnError !== undefined) return `could not be started (${exit.spawnError})`;
    if (exit.signal !== null) return `was killed by ${exit.signal}`;
    return `exited with code ${exit.code}`;
  }

  async send(message: JSONRPCMessage): Promise<void> {
    const stdin = this.child?.stdin;
    if (stdin === undefined || stdin === null || this.exitInfo !== undefined || !stdin.writable) {
      throw new Error(`the stdio MCP server ${this.describeExit()}`);
    }
    await new Promise<void>((resolve, reject) => {
      if (stdin.write(serializeMessage(message))) resolve();
      else stdin.once('drain', resolve).once('error', reject);
    });
  }

  /** Ends the server: close its stdin, then SIGTERM after a grace, then SIGKILL. Resolves once it has exited. */
  async close(): Promise<void> {
    if (this.closing || this.child === undefined || this.exitInfo !== undefined) {
      await (this.child === undefined ? undefined : this.exited);
      return;
    }
    this.closing = true;
    const child = this.child;
    child.stdin?.end();
    const gone = (ms: number): Promise<boolean> =>
      Promise.race([
        this.exited.then(() => true),
        new Promise<boolean>((resolve) => setTimeout(() => resolve(false), ms).unref()),
      ]);
    if (!(await gone(STDIO_GRACE_MS))) {
      child.kill('SIGTERM');
      if (!(await gone(STDIO_GRACE_MS))) {
        child.kill('SIGKILL');
        await this.exited;
      }
    }
  }
}
