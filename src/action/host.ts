/**
 * The GitHub runner as the action sees it: inputs, outputs, state, secrets, logs and the job summary. Steps talk to
 * this interface only; `actionsHost()` is the real one over the runner's command formats, tests pass a plain fake.
 */
import type { Log } from '../core/ports.js';
import { defuseCommands, maskSecrets, redactSecrets } from '../core/text.js';
import * as workflow from './workflow-commands.js';

export interface HostLog extends Log {
  /** An error annotation on the run. */
  error(message: string, title?: string): void;
  notice(message: string): void;
  group<T>(name: string, fn: () => Promise<T>): Promise<T>;
}

export interface ActionHost {
  /** The raw input value ('' when not given): the runner has applied action.yml defaults already. */
  input(name: string): string;
  setOutput(name: string, value: string): void;
  /** Masks a value in every later log line of the job, and in every job summary and output this step writes. */
  setSecret(value: string): void;
  saveState(name: string, value: string): void;
  state(name: string): string;
  env(name: string): string | undefined;
  log: HostLog;
  /** Appends markdown to the step's job summary. */
  summary(markdown: string): Promise<void>;
  /** Adds a directory to PATH for this step and the job's later steps (GITHUB_PATH). */
  addPath(dir: string): void;
  /** Marks the step failed (exit status 1) with an error annotation. */
  fail(message: string, title?: string): void;
}

/**
 * The runner over its workflow commands (./workflow-commands.ts). Two guards sit here, whatever the callers do:
 * - every log line and annotation goes through `defuseCommands`: `info` writes raw lines, and a line of server
 *   text that reads as a workflow command (`::add-mask::…`, `::stop-commands::…`, `##[error]…`) would be run by the
 *   runner. mcp-jobs itself never issues a command through a log line, so nothing of ours is lost.
 * - every value given to `setSecret` is also replaced by `***` in the job summary and in outputs: the runner masks
 *   secrets in the log only, and the summary file and outputs (an error message that repeats a URL's token, a
 *   result that echoes a header) are passed on as they were written.
 */
export function actionsHost(): ActionHost {
  const secrets = new Set<string>();
  const title = (text: string | undefined): string | undefined =>
    text === undefined ? undefined : defuseCommands(text);
  return {
    input: (name) => workflow.getInput(name),
    setOutput: (name, value) => workflow.setOutput(name, maskSecrets(value, secrets)),
    setSecret: (value) => {
      if (value !== '') secrets.add(value);
      workflow.setSecret(value);
    },
    saveState: (name, value) => workflow.saveState(name, value),
    state: (name) => workflow.getState(name),
    addPath: (dir) => workflow.addPath(dir),
    env: (name) => process.env[name],
    log: {
      info: (message) => workflow.info(defuseCommands(message)),
      warning: (message) => workflow.annotate('warning', defuseCommands(message)),
      debug: (message) => workflow.debug(defuseCommands(message)),
      error: (message, heading) => workflow.annotate('error', defuseCommands(message), title(heading)),
      notice: (message) => workflow.annotate('notice', defuseCommands(message)),
      group: (name, fn) => workflow.group(defuseCommands(name), fn),
    },
    summary: async (markdown) => {
      if (process.env.GITHUB_STEP_SUMMARY === undefined || process.env.GITHUB_STEP_SUMMARY === '') return;
      // The summary is a report, not the job: failing to write it must not fail a step whose job is fine.
      await workflow
        .appendSummary(redactSecrets(markdown, secrets))
        .catch((error: unknown) =>
          workflow.annotate('warning', defuseCommands(`Could not write the job summary: ${(error as Error).message}`)),
        );
    },
    fail: (message, heading) => {
      workflow.annotate('error', defuseCommands(message), title(heading));
      process.exitCode = 1;
    },
  };
}
