// The parts of scripts/build.mjs that decide what dist/ holds: the per-entry files, the licence list, and the
// minifier with its options. Kept apart so they are the same for every build, and testable without building.
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, sep } from 'node:path';
import { runInThisContext } from 'node:vm';

/** Where the one shared bundle goes, relative to dist/. */
export const BUNDLE_DIR = 'bundle';

/** Entries run as commands (the `bin` of package.json): their file starts with a shebang and is executable. */
export const COMMAND_ENTRIES = new Set(['cli']);

/**
 * The file GitHub runs for entry `name` (dist/<name>/index.js): it only names its entry; the code is the shared
 * bundle. dist/package.json makes it ESM.
 */
export function entrySource(name) {
  if (!/^[a-z][a-z0-9-]*$/.test(name)) throw new Error(`entry name '${name}' is not a folder name like 'submit'`);
  return [
    ...(COMMAND_ENTRIES.has(name) ? ['#!/usr/bin/env node'] : []),
    `// The '${name}' entry point of mcp-jobs, written by scripts/build.mjs. The code is the bundle all entries share.`,
    '// On a runner, Node 22.1+ keeps the compiled bundle under RUNNER_TEMP, so later steps of the job start faster.',
    "import module from 'node:module';",
    'const temp = process.env.RUNNER_TEMP;',
    'if (temp) try { module.enableCompileCache?.(`${temp}/mcp-jobs-compile-cache`); } catch { /* it only saves time */ }',
    `const { run } = await import('../${BUNDLE_DIR}/index.js');`,
    `run('${name}');`,
    '',
  ].join('\n');
}

/**
 * terser options for every .js file of the bundle, the main file and ncc's import() chunks alike. Names of classes
 * and functions are kept, as ncc's own --minify keeps them: libraries in the bundle read `constructor.name` and
 * `error.name`.
 */
export const TERSER_OPTIONS = Object.freeze({
  module: true,
  ecma: 2020,
  compress: { keep_classnames: true, keep_fnames: true },
  mangle: { keep_classnames: true, keep_fnames: true },
  format: { comments: 'some' },
});

/**
 * The terser that ncc bundles and runs for its own --minify (which minifies only ncc's main output file, never the
 * import() chunks). ncc's dist/ncc/index.js.cache.js is a webpack bundle exporting ncc; evaluated with terser's
 * module as its export instead, it hands out terser without adding a minifier to the dependencies. Fails loudly if
 * a new ncc is laid out differently.
 */
export function loadNccTerser(root) {
  const require = createRequire(join(root, 'package.json'));
  const file = join(dirname(require.resolve('@vercel/ncc')), 'index.js.cache.js');
  const source = readFileSync(file, 'utf8');
  const terserId = /\bterser=__webpack_require__\((\d+)\)/.exec(source)?.[1];
  const exportTail = /var __webpack_exports__=__webpack_require__\(\d+\);module\.exports=__webpack_exports__/;
  if (terserId === undefined || !exportTail.test(source)) {
    throw new Error(`${file} is not laid out as expected (ncc 0.45): cannot take terser from it`);
  }
  const patched = source.replace(exportTail, `module.exports=__webpack_require__(${terserId})`);
  const module = { exports: {} };
  const wrapper = runInThisContext(`(function (exports, require, module, __filename, __dirname) {${patched}\n})`, {
    filename: file,
  });
  wrapper(module.exports, require, module, file, dirname(file));
  if (typeof module.exports.minify !== 'function') throw new Error(`module ${terserId} of ${file} is not terser`);
  return module.exports;
}

/**
 * The package directory a bundled file belongs to (the innermost node_modules/<name> or node_modules/@scope/name),
 * or undefined for our own sources.
 */
export function packageDirOf(file) {
  const parts = file.split(sep);
  const at = parts.lastIndexOf('node_modules');
  if (at === -1 || at + 1 >= parts.length) return undefined;
  const length = parts[at + 1].startsWith('@') ? 2 : 1;
  if (at + length >= parts.length) return undefined;
  return parts.slice(0, at + 1 + length).join(sep);
}

const LICENSE_FILE = /^(licen[cs]e|copying)([.-].*)?$/i;

/** What the licence list says about one package directory. */
export function readPackageLicense(dir) {
  const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
  const id =
    typeof pkg.license === 'string'
      ? pkg.license
      : (pkg.license?.type ?? (pkg.licenses ?? []).map((l) => l.type ?? l).join(' OR ') ?? '');
  const texts = readdirSync(dir)
    .filter((name) => LICENSE_FILE.test(name))
    .sort()
    .map((name) => readFileSync(join(dir, name), 'utf8').replace(/\r\n/g, '\n').trim());
  return { name: pkg.name, version: pkg.version, license: id || 'UNKNOWN', texts };
}

const compareStrings = (a, b) => (a < b ? -1 : a > b ? 1 : 0);

/**
 * dist/bundle/licenses.txt: one section per bundled package version, sorted by name then version, so it is the same
 * on every build (ncc's --license picks one of a package's several installed copies, a different one from build to
 * build). `packages` are readPackageLicense results, in any order and with repeats.
 */
export function renderLicenses(packages) {
  const unique = new Map();
  for (const p of packages) unique.set(`${p.name}@${p.version}`, p);
  const sorted = [...unique.values()].sort(
    (a, b) => compareStrings(a.name, b.name) || compareStrings(a.version, b.version),
  );
  const sections = sorted.map((p) =>
    [
      `${p.name}@${p.version}`,
      p.license,
      ...(p.texts.length > 0 ? p.texts : ['(the package has no licence file)']),
    ].join('\n'),
  );
  const header =
    'Third-party packages bundled in dist/bundle/, with their licences (written by scripts/build.mjs from the list of' +
    ' modules in the bundle).';
  return `${[header, ...sections].join('\n\n')}\n`;
}
