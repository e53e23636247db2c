/** The pure parts of scripts/release.mjs: versions, the CHANGELOG rewrite, and the files that carry the version. */
import { describe, expect, it } from '@jest/globals';
import fs from 'node:fs';
import path from 'node:path';
import {
  majorTag,
  nextVersion,
  parseArgs,
  releaseChangelog,
  setLockVersion,
  setPackageVersion,
  setSourceVersion,
} from '../../scripts/release-lib.mjs';
import { REPO_ROOT } from '../helpers/runner.js';

const CHANGELOG = `# Changelog

Intro text.

## [Unreleased]

### Fixed

- A bug.

### Added

- A feature.

## [0.1.0] - 2026-11-25

### Added

- Everything.
`;

describe('nextVersion', () => {
  it.each([
    ['0.1.0', 'patch', '0.1.1'],
    ['0.1.9', 'minor', '0.2.0'],
    ['0.9.3', 'major', '1.0.0'],
    ['1.2.3', '1.10.0', '1.10.0'],
    ['1.2.3', '1.2.4', '1.2.4'],
  ])('%s + %s = %s', (current, bump, expected) => {
    expect(nextVersion(current, bump)).toBe(expected);
  });

  it('refuses an explicit version that is not above the current one', () => {
    expect(() => nextVersion('1.2.3', '1.2.3')).toThrow('version 1.2.3 is not above the current version 1.2.3');
    expect(() => nextVersion('1.10.0', '1.9.9')).toThrow('not above');
  });

  it('refuses what is not a bump or a version', () => {
    expect(() => nextVersion('1.2.3', 'huge')).toThrow("must be major, minor, patch or X.Y.Z, not 'huge'");
    expect(() => nextVersion('1.2.3', 'v1.3.0')).toThrow("not 'v1.3.0'");
    expect(() => nextVersion('1.2', 'patch')).toThrow("'1.2' is not a version like 1.2.3");
  });
});

it('the major tag is v<major>', () => {
  expect(majorTag('0.4.1')).toBe('v0');
  expect(majorTag('2.0.0')).toBe('v2');
});

describe('releaseChangelog', () => {
  it('moves the Unreleased entries under the version and leaves an empty Unreleased section', () => {
    expect(releaseChangelog(CHANGELOG, '0.2.0', '2026-12-24')).toBe(`# Changelog

Intro text.

## [Unreleased]

## [0.2.0] - 2026-12-24

### Fixed

- A bug.

### Added

- A feature.

## [0.1.0] - 2026-11-25

### Added

- Everything.
`);
  });

  it('works when Unreleased is the only section', () => {
    const text = '# Changelog\n\n## [Unreleased]\n\n- First.\n';
    expect(releaseChangelog(text, '0.1.0', '2026-01-02')).toBe(
      '# Changelog\n\n## [Unreleased]\n\n## [0.1.0] - 2026-01-02\n\n- First.\n',
    );
  });

  it('refuses an empty Unreleased section: nothing to release', () => {
    const released = releaseChangelog(CHANGELOG, '0.2.0', '2026-12-24');
    expect(() => releaseChangelog(released, '0.3.0', '2026-12-25')).toThrow('lists no change: nothing to release');
  });

  it('refuses a version that is already in the changelog', () => {
    expect(() => releaseChangelog(CHANGELOG, '0.1.0', '2026-12-24')).toThrow('already has a section for 0.1.0');
  });

  it('refuses a changelog without an Unreleased section, and a malformed date', () => {
    expect(() => releaseChangelog('# Changelog\n\n## [0.1.0] - 2026-11-25\n', '0.2.0', '2026-12-24')).toThrow(
      "no '## [Unreleased]' section",
    );
    expect(() => releaseChangelog(CHANGELOG, '0.2.0', '24.12.2026')).toThrow("YYYY-MM-DD, not '24.12.2026'");
  });

  it("the repository's CHANGELOG.md can be released as it is", () => {
    const text = fs.readFileSync(path.join(REPO_ROOT, 'CHANGELOG.md'), 'utf8');
    const released = releaseChangelog(text, '9.9.9', '2026-12-24');
    expect(released).toMatch(/^## \[Unreleased\]\n\n## \[9\.9\.9\] - 2026-12-24\n\n### /m);
    expect(released.length).toBeGreaterThan(text.length);
  });
});

describe('the files that carry the version', () => {
  const read = (file: string) => fs.readFileSync(path.join(REPO_ROOT, file), 'utf8');

  it('package.json: only the version changes', () => {
    const text = read('package.json');
    const updated = setPackageVersion(text, '7.8.9');
    expect(JSON.parse(updated)).toEqual({ ...JSON.parse(text), version: '7.8.9' });
    expect(updated.split('\n').length).toBe(text.split('\n').length);
  });

  it('package-lock.json: the root version in both places, formatted as npm writes it', () => {
    const text = read('package-lock.json');
    expect(setLockVersion(text, JSON.parse(text).version)).toBe(text);
    const lock = JSON.parse(setLockVersion(text, '7.8.9'));
    expect([lock.version, lock.packages[''].version]).toEqual(['7.8.9', '7.8.9']);
  });

  it("src/version.ts: CLIENT_INFO's version", () => {
    const updated = setSourceVersion(read('src/version.ts'), '7.8.9');
    expect(updated).toContain("CLIENT_INFO = { name: 'mcp-jobs', version: '7.8.9' }");
    expect(() => setSourceVersion('export const X = 1;\n', '1.0.0')).toThrow("CLIENT_INFO's version was not found");
  });
});

describe('parseArgs', () => {
  it('reads the bump and the options', () => {
    expect(parseArgs(['minor', '--dry-run', '--push', '--date', '2026-12-24'])).toEqual({
      bump: 'minor',
      dryRun: true,
      push: true,
      date: '2026-12-24',
    });
    expect(parseArgs(['1.0.0', '--date=2026-01-01'])).toMatchObject({ bump: '1.0.0', date: '2026-01-01' });
  });

  it('refuses a missing bump, a second one, unknown options and bad dates, naming them', () => {
    expect(() => parseArgs([])).toThrow('say which version to release');
    expect(() => parseArgs(['patch', 'minor'])).toThrow("not 'patch' and 'minor'");
    expect(() => parseArgs(['patch', '--force'])).toThrow("unknown option '--force'");
    expect(() => parseArgs(['patch', '--date', 'tomorrow'])).toThrow("--date must be YYYY-MM-DD, not 'tomorrow'");
  });
});
