/**
 * The job core and the stores as plain JavaScript, for tests whose workers are separate node processes (several
 * steps writing one state-dir). Each source file is transpiled on its own (TypeScript's `transpileModule`: types are
 * stripped, not checked; `npm run typecheck` checks them) into a directory under the repository's `.tmp/`, where the
 * workers resolve `zod` and the other dependencies from the repository's node_modules as the sources do.
 */
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
/** Only these: they import nothing else of ours (the MCP client and the action layer are not needed). */
const SOURCE_DIRS = ['src/core', 'src/store'];

export interface CompiledSources {
  /** The directory holding `core/...js` and `store/...js`. */
  dir: string;
  remove(): Promise<void>;
}

export async function compileSources(): Promise<CompiledSources> {
  await mkdir(path.join(REPO, '.tmp'), { recursive: true });
  const out = await mkdtemp(path.join(REPO, '.tmp', 'compiled-'));
  for (const sourceDir of SOURCE_DIRS) {
    for (const file of await tsFiles(path.join(REPO, sourceDir))) {
      const { outputText } = ts.transpileModule(await readFile(file, 'utf8'), {
        fileName: file,
        compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
      });
      const target = path.join(out, path.relative(path.join(REPO, 'src'), file)).replace(/\.ts$/, '.js');
      await mkdir(path.dirname(target), { recursive: true });
      await writeFile(target, outputText);
    }
  }
  // The sources are ESM ("type": "module" in the repository's package.json applies here too).
  return { dir: out, remove: () => rm(out, { recursive: true, force: true }) };
}

async function tsFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const files = await Promise.all(
    entries.map((entry) => {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) return tsFiles(full);
      return Promise.resolve(entry.name.endsWith('.ts') ? [full] : []);
    }),
  );
  return files.flat();
}
