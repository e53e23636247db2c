#!/usr/bin/env node
// Builds one ESM bundle per entry point into dist/<entry>/index.js from a clean dist/ (ncc never deletes stale
// files itself). GitHub runs these bundles: they are committed, and .ci/run fails when they are stale.
import { spawn } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { readdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const ncc = join(root, 'node_modules', '@vercel', 'ncc', 'dist', 'ncc', 'cli.js');
const entries = readdirSync(join(root, 'src', 'entries'))
  .filter((name) => name.endsWith('.ts'))
  .map((name) => name.slice(0, -'.ts'.length))
  .sort();

function build(entry) {
  const args = [ncc, 'build', join('src', 'entries', `${entry}.ts`), '-o', join('dist', entry)];
  args.push('--minify', '--license', 'licenses.txt', '--quiet');
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: root, stdio: 'inherit' });
    child.on('error', reject);
    child.on('exit', (code) => {
      if (code === 0) {
        console.log(`built dist/${entry}/index.js`);
        resolve();
      } else reject(new Error(`ncc failed for ${entry} (exit ${code})`));
    });
  });
}

rmSync(join(root, 'dist'), { recursive: true, force: true });
const queue = [...entries];
const workers = Array.from({ length: Math.min(availableParallelism(), queue.length) }, async () => {
  for (let entry = queue.shift(); entry !== undefined; entry = queue.shift()) await build(entry);
});
try {
  await Promise.all(workers);
} catch (error) {
  console.error(error.message);
  process.exit(1);
}
