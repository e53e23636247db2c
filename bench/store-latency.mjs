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

// The read phase of a fan-in wait in another job: N records, each one revision, read at once through a store
// that has read none of them (as the wait step reads them), next to one read alone.
const FAN_IN_SIZES = [10, 50];
const fanIn = [];
const fanInStartedAt = Date.now();
for (const s of stores.filter((st) => st.shared)) {
  const Blobs = s.name === 'cache' ? CacheBlobs : ArtifactBlobs;
  const fresh = () =>
    new SharedJobStore(
      s.name === 'cache'
        ? new Blobs(scratch(`${s.name}-fanin`), process.env)
        : new Blobs(scratch(`${s.name}-fanin`), 1, process.env),
      runId,
    );
  const writer = fresh();
  const jobs = [];
  const max = Math.max(...FAN_IN_SIZES);
  for (let i = 0; i < max + 3; i++) {
    const record = { ...template, jobId: newJobId(), revision: 1, updatedAt: new Date().toISOString() };
    await writer.save(record);
    jobs.push(record.jobId);
  }
  const readAll = async (ids) => {
    const reader = fresh();
    const started = performance.now();
    const read = await Promise.all(ids.map((id) => reader.get(template.instance, id)));
    const took = performance.now() - started;
    read.forEach((record, i) => {
      if (record?.jobId !== ids[i]) throw new Error(`${s.name}: fan-in read ${ids[i]} gave ${record?.jobId}`);
    });
    return took;
  };
  // One read alone: three jobs not read before, the median.
  const singles = [];
  for (const id of jobs.slice(max)) singles.push(await readAll([id]));
  singles.sort((a, b) => a - b);
  const phases = {};
  for (const n of FAN_IN_SIZES) phases[n] = await readAll(jobs.slice(0, n));
  fanIn.push({ name: s.name, oneMs: singles[1], phases });
}

fs.writeFileSync(
  outFile,
  JSON.stringify({
    fanIn,
    fanInStartedAt,
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
