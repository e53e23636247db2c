/**
 * The one error boundary of every step process. A JobError is the user's to act on: its message becomes the step's
 * error annotation. Anything else is a bug in mcp-jobs and says so, with the versions to report.
 */
import { describeError, isJobError } from '../core/errors.js';
import { inert } from '../core/text.js';
import { CLIENT_INFO } from '../version.js';
import { actionsHost, type ActionHost } from './host.js';

export type Step = (host: ActionHost) => Promise<void>;

/**
 * The `error` output every entry has: `CODE: message` of what failed the step, empty on success. A failure the step
 * reports itself (`fail`) gets its code from the annotation title (`mcp-jobs: job failed` is JOB_FAILED).
 */
function withErrorOutput(host: ActionHost): ActionHost {
  let written = false;
  return {
    ...host,
    fail: (message, title) => {
      if (!written) {
        written = true;
        const tail = title?.slice(title.indexOf(':') + 1).trim() ?? '';
        const code = tail === '' ? 'FAILED' : tail.toUpperCase().replace(/[^A-Z0-9]+/g, '_');
        host.setOutput('error', `${code}: ${message}`);
      }
      host.fail(message, title);
    },
  };
}

export async function runStep(name: string, step: Step, outer: ActionHost = actionsHost()): Promise<void> {
  const host = withErrorOutput(outer);
  host.setOutput('error', '');
  try {
    await step(host);
  } catch (error) {
    // A message may quote the server (its error text, tool names, a status message): shown inert, on one line.
    if (isJobError(error) && error.code !== 'INTERNAL') {
      host.fail(inert(error.message), `mcp-jobs ${name}: ${error.code}`);
    } else {
      host.fail(
        `mcp-jobs ${name} failed unexpectedly: ${inert(describeError(error))}. This is a bug in mcp-jobs ${CLIENT_INFO.version} (Node ${process.version}); please report it with this log.`,
        `mcp-jobs ${name}: internal error`,
      );
      if (error instanceof Error && error.stack) host.log.debug(error.stack);
    }
  }
}

/** Runs a step as a whole process: the boundary, then exit (open HTTP connections must not keep a step alive). */
export function main(name: string, step: Step): void {
  void runStep(name, step).finally(() => process.exit());
}
