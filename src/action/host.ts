/**
 * The GitHub runner as the action sees it: inputs, outputs, state, secrets, logs and the job summary. Steps talk to
 * this interface only; `actionsHost()` is the real one over @actions/core, tests pass a plain fake.
 */
import * as core from '@actions/core';
import type { Log } from '../core/ports.js';

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
  /** Masks a value in every later log line of the job. */
  setSecret(value: string): void;
  saveState(name: string, value: string): void;
  state(name: string): string;
  env(name: string): string | undefined;
  log: HostLog;
  /** Appends markdown to the step's job summary. */
  summary(markdown: string): Promise<void>;
  /** Marks the step failed (exit status 1) with an error annotation. */
  fail(message: string, title?: string): void;
}

export function actionsHost(): ActionHost {
  return {
    input: (name) => core.getInput(name),
    setOutput: (name, value) => core.setOutput(name, value),
    setSecret: (value) => core.setSecret(value),
    saveState: (name, value) => core.saveState(name, value),
    state: (name) => core.getState(name),
    env: (name) => process.env[name],
    log: {
      info: (message) => core.info(message),
      warning: (message) => core.warning(message),
      debug: (message) => core.debug(message),
      error: (message, title) => core.error(message, title === undefined ? {} : { title }),
      notice: (message) => core.notice(message),
      group: (name, fn) => core.group(name, fn),
    },
    summary: async (markdown) => {
      if (process.env.GITHUB_STEP_SUMMARY === undefined || process.env.GITHUB_STEP_SUMMARY === '') return;
      // The summary is a report, not the job: failing to write it must not fail a step whose job is fine.
      await core.summary
        .addRaw(markdown, true)
        .write()
        .catch((error: unknown) => core.warning(`Could not write the job summary: ${(error as Error).message}`))
        .finally(() => core.summary.emptyBuffer());
    },
    fail: (message, title) => {
      core.error(message, title === undefined ? {} : { title });
      process.exitCode = 1;
    },
  };
}
