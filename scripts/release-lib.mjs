// The pure parts of scripts/release.mjs: version arithmetic, the CHANGELOG rewrite and the version edits of the
// files that carry the version. No I/O here, so __tests__/unit/release.test.ts can check every rule.

const VERSION = /^(\d+)\.(\d+)\.(\d+)$/;

/** [major, minor, patch] of an X.Y.Z version, or an error naming what is wrong. */
export function parseVersion(version) {
  const match = VERSION.exec(String(version));
  if (!match) throw new Error(`'${version}' is not a version like 1.2.3`);
  return match.slice(1).map(Number);
}

const compare = (a, b) => {
  for (let i = 0; i < 3; i++) if (a[i] !== b[i]) return a[i] - b[i];
  return 0;
};

/** The version after `current` for `bump`: `major`, `minor`, `patch`, or an explicit X.Y.Z above `current`. */
export function nextVersion(current, bump) {
  const [major, minor, patch] = parseVersion(current);
  if (bump === 'major') return `${major + 1}.0.0`;
  if (bump === 'minor') return `${major}.${minor + 1}.0`;
  if (bump === 'patch') return `${major}.${minor}.${patch + 1}`;
  if (!VERSION.test(String(bump))) {
    throw new Error(`the version to release must be major, minor, patch or X.Y.Z, not '${bump}'`);
  }
  if (compare(parseVersion(bump), [major, minor, patch]) <= 0) {
    throw new Error(`version ${bump} is not above the current version ${current}`);
  }
  return bump;
}

/** The tag users follow (`uses: owner/mcp-jobs@v0`): v<major>, moved to every release of that major. */
export function majorTag(version) {
  return `v${parseVersion(version)[0]}`;
}

const UNRELEASED = /^## \[Unreleased\][^\n]*\n/m;
const NEXT_SECTION = /^## /m;

/**
 * CHANGELOG.md (Keep a Changelog) with the Unreleased section's entries moved under `## [version] - date`, and a new
 * empty Unreleased section above it. Fails when there is no Unreleased section, when it lists nothing, or when the
 * version is already in the changelog.
 */
export function releaseChangelog(text, version, date) {
  parseVersion(version);
  if (!/^\d{4}-\d{2}-\d{2}$/.test(date)) throw new Error(`the release date must be YYYY-MM-DD, not '${date}'`);
  const heading = UNRELEASED.exec(text);
  if (!heading) throw new Error("CHANGELOG.md has no '## [Unreleased]' section");
  const start = heading.index + heading[0].length;
  const rest = text.slice(start);
  const next = NEXT_SECTION.exec(rest);
  const body = next ? rest.slice(0, next.index) : rest;
  if (!/^\s*[-*] \S/m.test(body)) {
    throw new Error('the Unreleased section of CHANGELOG.md lists no change: nothing to release');
  }
  const escaped = version.replace(/\./g, '\\.');
  if (new RegExp(`^## \\[${escaped}\\]`, 'm').test(text)) {
    throw new Error(`CHANGELOG.md already has a section for ${version}`);
  }
  const released = `## [${version}] - ${date}\n\n${body.trim()}\n\n`;
  const after = next ? rest.slice(next.index) : '';
  return `${text.slice(0, start)}\n${released}${after}`.replace(/\n*$/, '\n');
}

/** package.json text with its version set; the rest of the file untouched. */
export function setPackageVersion(text, version) {
  const json = JSON.parse(text);
  if (typeof json.version !== 'string') throw new Error('package.json has no version');
  const updated = text.replace(/^(\s*"version":\s*)"[^"]*"/m, `$1"${version}"`);
  if (JSON.parse(updated).version !== version) throw new Error('package.json: the version line was not found');
  return updated;
}

/** package-lock.json text with the root package's version set (top level and packages[""]), as npm writes it. */
export function setLockVersion(text, version) {
  const lock = JSON.parse(text);
  lock.version = version;
  if (lock.packages?.['']) lock.packages[''].version = version;
  return `${JSON.stringify(lock, null, 2)}\n`;
}

/** src/version.ts (CLIENT_INFO, what the client tells servers) with its version set. */
export function setSourceVersion(text, version) {
  const pattern = /(CLIENT_INFO = \{ name: 'mcp-jobs', version: ')[^']*(')/;
  if (!pattern.test(text)) throw new Error("src/version.ts: CLIENT_INFO's version was not found");
  return text.replace(pattern, `$1${version}$2`);
}

/** Command-line arguments of scripts/release.mjs. */
export function parseArgs(argv) {
  const options = { bump: undefined, dryRun: false, push: false, date: undefined };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--dry-run') options.dryRun = true;
    else if (arg === '--push') options.push = true;
    else if (arg === '--date') options.date = argv[++i];
    else if (arg.startsWith('--date=')) options.date = arg.slice('--date='.length);
    else if (arg.startsWith('-')) throw new Error(`unknown option '${arg}'`);
    else if (options.bump === undefined) options.bump = arg;
    else throw new Error(`one version to release, not '${options.bump}' and '${arg}'`);
  }
  if (options.bump === undefined) throw new Error('say which version to release: major, minor, patch or X.Y.Z');
  if (options.date !== undefined && !/^\d{4}-\d{2}-\d{2}$/.test(options.date)) {
    throw new Error(`--date must be YYYY-MM-DD, not '${options.date}'`);
  }
  return options;
}
