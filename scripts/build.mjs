#!/usr/bin/env node
// Builds dist/ from a clean dist/ (ncc never deletes stale files itself). GitHub runs these files: they are
// committed, and .ci/run fails when they are stale, so the build must give the same bytes every time.
//
//   dist/bundle/        ONE ncc build of src/entries/index.ts, shared by every entry point: index.js (what every
//                       step loads at start) and the chunks of import() (the MCP client, the Actions cache and
//                       artifact stores), each loaded only by a step that needs it; licenses.txt.
//   dist/<entry>/index.js  a few lines per entry of ENTRIES (src/entries/index.ts): run('<entry>').
//   dist/package.json   {"type":"module"} for the entry files.
//
// ncc minifies only its main output file, so the build minifies every .js file of the bundle itself, with the
// terser ncc bundles (scripts/build-lib.mjs), in worker threads. ncc's --license picks one of a package's several
// installed copies at random; the licence list is written here instead, from the modules in the bundle.
import { spawn } from 'node:child_process';
import {
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { BUNDLE_DIR, COMMAND_ENTRIES, entrySource, readPackageLicense, renderLicenses } from './build-lib.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');
const bundle = join(dist, BUNDLE_DIR);
const entry = join('src', 'entries', 'index.ts');

/** ncc in a process of its own (scripts/ncc-bundle.mjs): webpack's memory is gone before the minifier starts. */
function runNcc(packagesFile) {
  const args = [join(root, 'scripts', 'ncc-bundle.mjs'), entry, bundle, packagesFile];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: root, stdio: 'inherit' });
    child.on('error', reject);
    child.on('exit', (code, signal) =>
      code === 0 ? resolve() : reject(new Error(`ncc failed for ${entry} (${signal ?? `exit ${code}`})`)),
    );
  });
}

/** Minifies `files` in place, largest first, over a few worker threads. */
async function minify(files) {
  const queue = [...files].sort((a, b) => statSync(b).size - statSync(a).size);
  const results = [];
  const worker = () =>
    new Promise((resolve, reject) => {
      const thread = new Worker(new URL('./minify-worker.mjs', import.meta.url), { workerData: { root } });
      const next = () => {
        const file = queue.shift();
        if (file === undefined) void thread.terminate().then(resolve);
        else thread.postMessage(file);
      };
      thread.on('message', (result) => {
        if (result.error) {
          void thread.terminate();
          reject(new Error(`minifying ${relative(root, result.file)} failed: ${result.error}`));
          return;
        }
        results.push(result);
        next();
      });
      thread.on('error', reject);
      next();
    });
  await Promise.all(Array.from({ length: Math.max(1, Math.min(availableParallelism(), queue.length)) }, worker));
  return results;
}

function writeLicenses(packagesFile) {
  const dirs = JSON.parse(readFileSync(packagesFile, 'utf8'));
  if (dirs.length === 0) throw new Error(`${packagesFile} lists no bundled package: cannot write the licences`);
  const packages = dirs.map(readPackageLicense);
  writeFileSync(join(bundle, 'licenses.txt'), renderLicenses(packages));
  return new Set(packages.map((p) => `${p.name}@${p.version}`)).size;
}

/**
 * Loads the built bundle and every chunk once: a minified file that does not parse fails the build here, not in a
 * user's workflow. Loading starts nothing (only run() does). Returns the bundle's entry names.
 */
async function entryNames(jsFiles) {
  const { ENTRIES, run } = await import(pathToFileURL(join(bundle, 'index.js')).href);
  if (typeof run !== 'function' || ENTRIES === null || typeof ENTRIES !== 'object') {
    throw new Error('dist/bundle/index.js does not export ENTRIES and run: is src/entries/index.ts the dispatcher?');
  }
  for (const file of jsFiles) await import(pathToFileURL(file).href);
  return Object.keys(ENTRIES).sort();
}

/**
 * webpack names modules (and so chunks) after their real path relative to the project: through a node_modules
 * symlink (a git worktree sharing another checkout's node_modules) the bytes differ from a build with node_modules
 * in place, as in CI, and the dist/ check would fail.
 */
function warnOnLinkedNodeModules() {
  const modules = join(root, 'node_modules');
  if (!lstatSync(modules, { throwIfNoEntry: false })?.isSymbolicLink()) return;
  console.warn(
    `warning: node_modules is a symlink to ${realpathSync(modules)}: this dist/ will differ from a build with` +
      ' node_modules in place (as in CI). Build where node_modules is a real directory before committing dist/.',
  );
}

const started = performance.now();
warnOnLinkedNodeModules();
const work = mkdtempSync(join(tmpdir(), 'mcp-jobs-build-'));
try {
  rmSync(dist, { recursive: true, force: true });
  const packagesFile = join(work, 'packages.json');
  await runNcc(packagesFile);
  const built = performance.now();

  const jsFiles = readdirSync(bundle)
    .filter((name) => name.endsWith('.js'))
    .sort()
    .map((name) => join(bundle, name));
  const minified = await minify(jsFiles);
  const before = minified.reduce((sum, r) => sum + r.before, 0);
  const after = minified.reduce((sum, r) => sum + r.after, 0);
  const licensed = writeLicenses(packagesFile);

  writeFileSync(join(dist, 'package.json'), '{ "type": "module" }\n');
  const names = await entryNames(jsFiles);
  for (const name of names) {
    mkdirSync(join(dist, name));
    writeFileSync(join(dist, name, 'index.js'), entrySource(name), { mode: COMMAND_ENTRIES.has(name) ? 0o755 : 0o644 });
  }

  const seconds = (ms) => `${(ms / 1000).toFixed(1)} s`;
  const kib = (bytes) => `${(bytes / 1024).toFixed(0)} KiB`;
  console.log(
    `built dist/${BUNDLE_DIR}/ (ncc ${seconds(built - started)}; ${jsFiles.length} files minified ` +
      `${kib(before)} -> ${kib(after)} in ${seconds(performance.now() - built)}; ${licensed} licensed packages)` +
      ` and ${names.map((name) => `dist/${name}/index.js`).join(', ')}` +
      ` (peak memory of the minifying process ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB)`,
  );
} catch (error) {
  console.error(`build failed: ${error?.message ?? error}`);
  process.exitCode = 1;
} finally {
  rmSync(work, { recursive: true, force: true });
}
