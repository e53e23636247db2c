#!/usr/bin/env node
/**
 * Child process of bench/run.mjs: write and read latency of one job-record revision per store, in process.
 *
 * What runs: the project's own store classes (src/store/*.ts with the src/core modules they import), transpiled file
 * by file with the project's TypeScript (`transpileModule`, no type check, no bundling: the same code dist/ bundles)
 * into a temp directory whose `node_modules` links to the project's, so `@actions/cache` and `@actions/artifact` are
 * the real libraries dist/ was built from. They talk to the local Actions service whose runner env
 * (ACTIONS_RESULTS_URL, ACTIONS_RUNTIME_TOKEN, ACTIONS_CACHE_SERVICE_V2, GITHUB_RUN_ID, RUNNER_TEMP, ...) the
 * parent passes in this process's environment.
 *
 * Measured per store, for one job written revision after revision:
 *   write = LocalJobStore.put (temp file, fsync, rename) | SharedJobStore.save (one new blob: a cache entry or an
 *           artifact, with the revision in its name)
 *   read  = LocalJobStore.get | SharedJobStore.get (the newest revision by prefix; for the cache plus the lookup of
 *           a higher revision that SharedJobStore.get makes because the cache answers "last finalized")
 * every read is checked to return the revision just written. The first round (library import, first connection) is
 * reported apart as "cold".
 *
 * Usage: node bench/store-latency.mjs <out.json> <rounds> <record.json> <work dir>
 */
import fs from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const [outFile, roundsArg, templateFile, workDir] = process.argv.slice(2);
const ROUNDS = Math.max(1, Number.parseInt(roundsArg ?? '8', 10) || 8);

/** Transpiles src/**\/*.ts to <dir>/src/**\/*.js (ESM), next to a node_modules link to the project's. */
async function transpileSources(dir) {
  const { default: ts } = await import('typescript');
  const started = performance.now();
  const walk = (from) =>
    fs.readdirSync(from, { withFileTypes: true }).flatMap((entry) => {
      const full = path.join(from, entry.name);
      return entry.isDirectory() ? walk(full) : entry.name.endsWith('.ts') ? [full] : [];
    });
  let files = 0;
  for (const file of walk(path.join(ROOT, 'src'))) {
    const out = path.join(dir, path.relative(ROOT, file)).replace(/\.ts$/, '.js');
    const { outputText, diagnostics } = ts.transpileModule(fs.readFileSync(file, 'utf8'), {
      fileName: file,
      reportDiagnostics: true,
      compilerOptions: {
        module: ts.ModuleKind.ESNext,
        target: ts.ScriptTarget.ES2022,
        isolatedModules: true,
        esModuleInterop: true,
      },
    });
    if (diagnostics?.length) {
      throw new Error(`transpiling ${file}: ${ts.flattenDiagnosticMessageText(diagnostics[0].messageText, '\n')}`);
    }
    fs.mkdirSync(path.dirname(out), { recursive: true });
    fs.writeFileSync(out, outputText);
    files++;
  }
  fs.writeFileSync(path.join(dir, 'package.json'), '{ "type": "module" }\n');
  fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(dir, 'node_modules'), 'dir');
  return { files, ms: performance.now() - started };
}

const code = path.join(workDir, 'code');
fs.mkdirSync(code, { recursive: true });
const transpiled = await transpileSources(code);
const load = (rel) => import(pathToFileURL(path.join(code, 'src', rel)).href);
const { LocalJobStore } = await load('store/local.js');
const { SharedJobStore } = await load('store/shared.js');
const { CacheBlobs } = await load('store/cache-blobs.js');
const { ArtifactBlobs } = await load('store/artifact-blobs.js');
const { newJobId, parseRecord } = await load('core/record.js');

const template = parseRecord(fs.readFileSync(templateFile, 'utf8'), templateFile);
const runId = process.env.GITHUB_RUN_ID || 'local';
const scratch = (name) => {
  const dir = path.join(workDir, name);
  fs.mkdirSync(dir, { recursive: true });
  return dir;
};

const stores = [
  { name: 'local', store: new LocalJobStore(scratch('state')), shared: false },
  {
    name: 'cache',
    store: new SharedJobStore(new CacheBlobs(scratch('cache-scratch'), process.env), runId),
    shared: true,
  },
  {
    name: 'artifact',
    store: new SharedJobStore(new ArtifactBlobs(scratch('artifact-scratch'), 1, process.env), runId),
    shared: true,
  },
];
for (const s of stores) {
  s.jobId = newJobId();
  s.writes = [];
  s.reads = [];
  s.bytes = 0;
}

// Rounds interleave the stores, so a burst of load on the machine hits all three alike.
for (let round = 0; round <= ROUNDS; round++) {
  for (const s of stores) {
    const record = {
      ...template,
      jobId: s.jobId,
      revision: round + 1,
      updatedAt: new Date().toISOString(),
    };
    s.bytes = JSON.stringify(record).length;
    let started = performance.now();
    if (s.shared) {
      const stored = await s.store.save(record);
      if (stored.revision !== record.revision) {
        throw new Error(`${s.name}: revision ${record.revision} was stored as ${stored.revision} (a conflict?)`);
      }
    } else {
      await s.store.put(record);
    }
    const wrote = performance.now() - started;
    started = performance.now();
    const read = await s.store.get(record.instance, s.jobId);
    const readMs = performance.now() - started;
    if (read?.revision !== record.revision) {
      throw new Error(`${s.name}: read revision ${read?.revision} after writing ${record.revision}`);
    }
    if (round === 0) {
      s.coldWrite = wrote;
      s.coldRead = readMs;
    } else {
      s.writes.push(wrote);
      s.reads.push(readMs);
    }
  }
}

fs.writeFileSync(
  outFile,
  JSON.stringify({
    transpiled,
    stores: stores.map(({ name, writes, reads, coldWrite, coldRead, bytes }) => ({
      name,
      writes,
      reads,
      coldWrite,
      coldRead,
      bytes,
    })),
  }),
);
