// A worker thread of scripts/build.mjs: minifies the files it is sent, in place, with the terser ncc bundles.
import { readFileSync, writeFileSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import { loadNccTerser, TERSER_OPTIONS } from './build-lib.mjs';

const terser = loadNccTerser(workerData.root);

parentPort.on('message', async (file) => {
  try {
    const code = readFileSync(file, 'utf8');
    const result = await terser.minify(code, TERSER_OPTIONS);
    if (typeof result.code !== 'string') throw new Error('terser returned no code');
    writeFileSync(file, result.code);
    parentPort.postMessage({ file, before: code.length, after: result.code.length });
  } catch (error) {
    parentPort.postMessage({ file, error: String(error?.stack ?? error) });
  }
});
