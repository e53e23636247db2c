/**
 * The runner stops a step with SIGINT, then SIGTERM 7.5 s later, then SIGKILL 2.5 s after that. A step that must not
 * leave work running turns the first signal into an abort, so it can cancel the remote task and record why.
 */
export interface Interrupt {
  signal: AbortSignal;
  /** The signal that arrived, if any. */
  received(): NodeJS.Signals | undefined;
  dispose(): void;
}

export function onStopSignals(log: (message: string) => void): Interrupt {
  const controller = new AbortController();
  let received: NodeJS.Signals | undefined;
  const handler = (signal: NodeJS.Signals): void => {
    if (received !== undefined) {
      log(`Received ${signal} while still stopping after ${received}; finishing the cancellation`);
      return;
    }
    received = signal;
    log(`Received ${signal}: the step is being stopped`);
    controller.abort(new Error(`Stopped by ${signal}`));
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  return {
    signal: controller.signal,
    received: () => received,
    dispose: () => {
      process.off('SIGINT', handler);
      process.off('SIGTERM', handler);
    },
  };
}
