/** Whether processes the tests started (job runners, stdio servers) are still there, by PID, never by name. */

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * Waits (generously: the machine may be loaded) until the process is gone; false if it never goes. How long it
 * takes is not what the tests assert, that it goes is.
 */
export async function gone(pid: number, deadlineMs = 30_000): Promise<boolean> {
  const until = Date.now() + deadlineMs;
  while (alive(pid)) {
    if (Date.now() > until) return false;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return true;
}
