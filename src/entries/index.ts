/**
 * The one bundle every entry point runs (dist/bundle/index.js). Each entry point is a few-line file,
 * dist/<name>/index.js, written by scripts/build.mjs for every name in ENTRIES: it imports this bundle and calls
 * run('<name>'). One bundle instead of one per entry keeps the code (and its lazily loaded chunks) in dist/ once.
 *
 * Importing this module starts nothing: only run() does. Each host is behind import(), so the command line never
 * loads @actions/* and a step never loads the terminal host; code that only some commands need (the MCP client,
 * the shared stores) stays behind import() where it is used, so it is read from disk only when it is needed.
 */
type StepName = 'call' | 'cancel' | 'post' | 'submit' | 'wait' | 'show' | 'setup';

const step = (name: StepName) => (): void => {
  void import('../action/entry.js').then((action) => action.runEntry(name));
};

/** Every entry point: its name (the dist/<name>/ folder) and what its process runs. */
export const ENTRIES = {
  call: step('call'),
  cancel: step('cancel'),
  cli: () => {
    void import('../cli/main.js').then((cli) => cli.cliMain());
  },
  post: step('post'),
  /** The background job runner (not a step: submit starts it, detached). */
  runner: () => void import('../runner/runner.js').then((runner) => runner.runnerMain()),
  setup: step('setup'),
  show: step('show'),
  submit: step('submit'),
  wait: step('wait'),
} as const satisfies Record<string, () => void>;

export type EntryName = keyof typeof ENTRIES;

/** Runs entry point `name` as this process. */
export function run(name: string): void {
  if (!Object.hasOwn(ENTRIES, name)) {
    throw new Error(`mcp-jobs: no entry point named '${name}' (known: ${Object.keys(ENTRIES).join(', ')})`);
  }
  ENTRIES[name as EntryName]();
}
