// A child process of scripts/build.mjs: runs ncc's API on one entry, writes what it emits into an output folder
// (like `ncc build -o`), and writes the list of package directories the bundle's chunks contain (for the licence
// list), read from webpack's chunk graph. A process of its own, so that webpack's memory is freed before the
// minifier starts. Usage: node scripts/ncc-bundle.mjs <entry.ts> <out dir> <package list .json>
import { mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { packageDirOf } from './build-lib.mjs';

const [entry, outDir, packagesFile] = process.argv.slice(2);
if (!entry || !outDir || !packagesFile) {
  console.error('usage: node scripts/ncc-bundle.mjs <entry.ts> <out dir> <package list .json>');
  process.exit(2);
}
const ncc = createRequire(import.meta.url)('@vercel/ncc');
const { code, assets, symlinks, stats } = await ncc(resolve(entry), { quiet: true });
if (Object.keys(symlinks ?? {}).length > 0) throw new Error(`ncc emitted symlinks: ${Object.keys(symlinks)}`);

mkdirSync(outDir, { recursive: true });
writeFileSync(join(outDir, 'index.js'), code);
for (const [name, asset] of Object.entries(assets)) {
  mkdirSync(dirname(join(outDir, name)), { recursive: true });
  writeFileSync(join(outDir, name), asset.source, { mode: asset.permissions });
}

// Every module in an emitted chunk, and the modules webpack concatenated into it.
const { modules, chunkGraph } = stats.compilation;
const dirs = new Set();
for (const module of modules) {
  if (chunkGraph.getNumberOfModuleChunks(module) === 0) continue;
  for (const inner of module.modules ?? [module]) {
    const file = inner.nameForCondition?.();
    const dir = typeof file === 'string' ? packageDirOf(file) : undefined;
    if (dir !== undefined) dirs.add(dir);
  }
}
writeFileSync(packagesFile, `${JSON.stringify([...dirs].sort(), null, 2)}\n`);
