// Types of scripts/release-lib.mjs, for the unit test.
export function parseVersion(version: string): [number, number, number];
export function nextVersion(current: string, bump: string): string;
export function majorTag(version: string): string;
export function releaseChangelog(text: string, version: string, date: string): string;
export function setPackageVersion(text: string, version: string): string;
export function setLockVersion(text: string, version: string): string;
export function setSourceVersion(text: string, version: string): string;
export interface ReleaseOptions {
  bump: string;
  dryRun: boolean;
  push: boolean;
  date: string | undefined;
}
export function parseArgs(argv: string[]): ReleaseOptions;
