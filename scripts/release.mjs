#!/usr/bin/env node
// Releases mcp-jobs: node scripts/release.mjs <major|minor|patch|X.Y.Z> [--dry-run] [--push] [--date YYYY-MM-DD]
//
//  1. checks that the work tree is clean and that dist/ is what the sources build to (npm run build, then git
//     status, as .ci/run does), and that the tag does not exist yet;
//  2. sets the version in package.json, package-lock.json and src/version.ts (what the client tells servers),
//     moves CHANGELOG.md's Unreleased entries under the new version, and rebuilds dist/ (it carries the version);
//  3. commits "Release vX.Y.Z", tags vX.Y.Z, and moves the major tag users follow (v0 for 0.x) to it;
//  4. with --push, pushes the branch and the version tag, and force-pushes the major tag.
//
// --dry-run runs the checks of step 1 (the build included) and prints what steps 2-4 would do, changing nothing
// (a stale dist/ is left rebuilt, to be committed). .github/workflows/release.yml runs this on workflow_dispatch.
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  majorTag,
  nextVersion,
  parseArgs,
  releaseChangelog,
  setLockVersion,
  setPackageVersion,
  setSourceVersion,
} from './release-lib.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const FILES = {
  package: 'package.json',
  lock: 'package-lock.json',
  source: join('src', 'version.ts'),
  changelog: 'CHANGELOG.md',
};

/** A failed check or command: its message says what to do. */
class ReleaseError extends Error {}

function run(command, args, { capture = true, allowFailure = false } = {}) {
  const result = spawnSync(command, args, {
    cwd: root,
    encoding: 'utf8',
    stdio: capture ? ['ignore', 'pipe', 'pipe'] : 'inherit',
  });
  if (result.error) throw new ReleaseError(`${command} ${args.join(' ')}: ${result.error.message}`);
  if (result.status !== 0 && !allowFailure) {
    throw new ReleaseError(`${command} ${args.join(' ')} failed (exit ${result.status})\n${result.stderr ?? ''}`);
  }
  return { status: result.status, stdout: (result.stdout ?? '').trim() };
}
const git = (...args) => run('git', args).stdout;
const read = (file) => readFileSync(join(root, file), 'utf8');

function checkCleanTree() {
  const status = git('status', '--porcelain');
  if (status !== '') {
    throw new ReleaseError(`the work tree is not clean; commit or stash first:\n${status}`);
  }
}

function checkFreshDist() {
  console.log('Building dist/ to check it is what the sources build to (npm run build)...');
  run('npm', ['run', 'build'], { capture: false });
  const status = git('status', '--porcelain', '--', 'dist');
  if (status !== '') {
    throw new ReleaseError(
      `dist/ is not what the sources build to. The rebuilt dist/ is left in place: commit it first.\n${status}`,
    );
  }
}

function checkNewTag(tag) {
  if (run('git', ['rev-parse', '-q', '--verify', `refs/tags/${tag}`], { allowFailure: true }).status === 0) {
    throw new ReleaseError(`tag ${tag} exists already`);
  }
}

function main() {
  const options = parseArgs(process.argv.slice(2));
  const current = JSON.parse(read(FILES.package)).version;
  const version = nextVersion(current, options.bump);
  const tag = `v${version}`;
  const major = majorTag(version);
  const date = options.date ?? new Date().toISOString().slice(0, 10);
  const branch = git('rev-parse', '--abbrev-ref', 'HEAD');
  if (options.push && branch === 'HEAD') throw new ReleaseError('HEAD is detached: check out the branch to release');

  // Every edit is computed (and so checked) before anything is written.
  const edits = {
    [FILES.package]: setPackageVersion(read(FILES.package), version),
    [FILES.lock]: setLockVersion(read(FILES.lock), version),
    [FILES.source]: setSourceVersion(read(FILES.source), version),
    [FILES.changelog]: releaseChangelog(read(FILES.changelog), version, date),
  };
  checkCleanTree();
  checkNewTag(tag);
  checkFreshDist();

  const plan = [
    `release ${current} -> ${version} (${date}) on ${branch}`,
    `set the version in ${FILES.package}, ${FILES.lock}, ${FILES.source}; CHANGELOG.md: Unreleased -> [${version}]`,
    'rebuild dist/',
    `commit "Release ${tag}", tag ${tag}, move ${major} to it`,
    options.push ? `push ${branch} and ${tag}, force-push ${major}` : 'no push (--push pushes)',
  ];
  if (options.dryRun) {
    console.log(`Dry run, nothing changed. Would:\n${plan.map((step) => `  - ${step}`).join('\n')}`);
    console.log(`\nCHANGELOG.md would read:\n${edits[FILES.changelog].split('\n').slice(0, 30).join('\n')}\n...`);
    return;
  }

  for (const [file, text] of Object.entries(edits)) writeFileSync(join(root, file), text);
  console.log(`Rebuilding dist/ for ${version}...`);
  run('npm', ['run', 'build'], { capture: false });
  run('git', ['add', '--', ...Object.keys(edits), 'dist']);
  run('git', ['commit', '-q', '-m', `Release ${tag}`]);
  run('git', ['tag', '-a', tag, '-m', `mcp-jobs ${tag}`]);
  run('git', ['tag', '-f', '-a', major, '-m', `mcp-jobs ${major}: latest ${tag}`]);
  console.log(`Committed and tagged ${tag}; ${major} now points at it.`);
  if (options.push) {
    run('git', ['push', 'origin', `HEAD:refs/heads/${branch}`, `refs/tags/${tag}`], { capture: false });
    run('git', ['push', '--force', 'origin', `refs/tags/${major}`], { capture: false });
    console.log(`Pushed ${branch}, ${tag} and ${major}.`);
  } else {
    console.log(`To publish: git push origin ${branch} ${tag} && git push --force origin ${major}`);
  }
}

try {
  main();
} catch (error) {
  // Bad arguments and failed checks are errors of ours with a message that says what to do.
  console.error(`release: ${error?.message ?? error}`);
  process.exitCode = 1;
}
