/**
 * The one bundle every entry point runs (dist/bundle/index.js). Each entry point is a few-line file,
 * dist/<name>/index.js, written by scripts/build.mjs for every name in ENTRIES: it imports this bundle and calls
 * run('<name>'). One bundle instead of one per entry keeps the code (and its lazily loaded chunks) in dist/ once.
 *
 * Importing this module starts nothing: only run() does. Code that only some entries need (the MCP client, the
 * shared stores) stays behind import() where it is used, so it is read from disk only when a step needs it.
 */
import { main } from '../action/boundary.js';
import { callStep, cancelStep, postStep, submitStep, waitStep } from '../action/steps.js';

/** Every entry point: its name (the dist/<name>/ folder) and what its process runs. */
export const ENTRIES = {
  call: () => main('call', callStep),
  cancel: () => main('cancel', cancelStep),
  post: () => main('post', postStep),
  /** The background job runner (not a step: submit starts it, detached). */
  runner: () => void import('../runner/runner.js').then((runner) => runner.runnerMain()),
  submit: () => main('submit', submitStep),
  wait: () => main('wait', waitStep),
} as const satisfies Record<string, () => void>;

export type EntryName = keyof typeof ENTRIES;

/** Runs entry point `name` as this process. */
export function run(name: string): void {
  if (!Object.hasOwn(ENTRIES, name)) {
    throw new Error(`mcp-jobs: no entry point named '${name}' (known: ${Object.keys(ENTRIES).join(', ')})`);
  }
  ENTRIES[name as EntryName]();
}
