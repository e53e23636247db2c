/**
 * The GitHub runner as the action sees it: inputs, outputs, state, secrets, logs and the job summary. Steps talk to
 * this interface only; `actionsHost()` is the real one over @actions/core, tests pass a plain fake.
 */
import * as core from '@actions/core';
import type { Log } from '../core/ports.js';
import { defuseCommands, redactSecrets } from '../core/text.js';

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
  /** Masks a value in every later log line of the job, and in every job summary this step writes. */
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
 * The runner over @actions/core. Two guards sit here, whatever the callers do:
 * - every log line and annotation goes through `defuseCommands`: `core.info` writes raw lines, and a line of server
 *   text that reads as a workflow command (`::add-mask::…`, `::stop-commands::…`, `##[error]…`) would be run by the
 *   runner. mcp-jobs itself never issues a command through a log line, so nothing of ours is lost.
 * - every value given to `setSecret` is also replaced by `***` in the job summary: the runner masks secrets in the
 *   log only, and the summary file is shown as it was written.
 */
export function actionsHost(): ActionHost {
  const secrets = new Set<string>();
  const annotation = (title: string | undefined): core.AnnotationProperties =>
    title === undefined ? {} : { title: defuseCommands(title) };
  return {
    input: (name) => core.getInput(name),
    setOutput: (name, value) => core.setOutput(name, value),
    setSecret: (value) => {
      if (value !== '') secrets.add(value);
      core.setSecret(value);
    },
    saveState: (name, value) => core.saveState(name, value),
    state: (name) => core.getState(name),
    addPath: (dir) => core.addPath(dir),
    env: (name) => process.env[name],
    log: {
      info: (message) => core.info(defuseCommands(message)),
      warning: (message) => core.warning(defuseCommands(message)),
      debug: (message) => core.debug(defuseCommands(message)),
      error: (message, title) => core.error(defuseCommands(message), annotation(title)),
      notice: (message) => core.notice(defuseCommands(message)),
      group: (name, fn) => core.group(defuseCommands(name), fn),
    },
    summary: async (markdown) => {
      if (process.env.GITHUB_STEP_SUMMARY === undefined || process.env.GITHUB_STEP_SUMMARY === '') return;
      // The summary is a report, not the job: failing to write it must not fail a step whose job is fine.
      await core.summary
        .addRaw(redactSecrets(markdown, secrets), true)
        .write()
        .catch((error: unknown) => core.warning(`Could not write the job summary: ${(error as Error).message}`))
        .finally(() => core.summary.emptyBuffer());
    },
    fail: (message, title) => {
      core.error(defuseCommands(message), annotation(title));
      process.exitCode = 1;
    },
  };
}
