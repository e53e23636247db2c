/**
 * The one error boundary of every step process. A JobError is the user's to act on: its message becomes the step's
 * error annotation. Anything else is a bug in mcp-jobs and says so, with the versions to report.
 */
import { describeError, isJobError } from '../core/errors.js';
import { inert } from '../core/text.js';
import { CLIENT_INFO } from '../version.js';
import { actionsHost, type ActionHost } from './host.js';

export type Step = (host: ActionHost) => Promise<void>;

export async function runStep(name: string, step: Step, host: ActionHost = actionsHost()): Promise<void> {
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
