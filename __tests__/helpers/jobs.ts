/** Reads what the built entries left on the runner's disk: job records and every stored byte. */
import fs from 'node:fs';
import path from 'node:path';

export function stateDirOf(runnerTemp: string): string {
  return path.join(runnerTemp, 'mcp-jobs');
}

export function recordPath(runnerTemp: string, jobId: string, instance = 'default'): string {
  return path.join(stateDirOf(runnerTemp), 'instances', instance, 'jobs', `${jobId}.json`);
}

/** The raw job record as stored (parsed JSON, not validated: the tests check what is really on disk). */
export function readRecord(runnerTemp: string, jobId: string, instance = 'default'): Record<string, any> {
  return JSON.parse(fs.readFileSync(recordPath(runnerTemp, jobId, instance), 'utf8'));
}

/** Every file under a directory, with its contents: for scanning stored bytes for secrets. */
export function allFiles(dir: string): Array<{ file: string; text: string }> {
  if (!fs.existsSync(dir)) return [];
  const out: Array<{ file: string; text: string }> = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue;
    const file = path.join(entry.parentPath, entry.name);
    out.push({ file, text: fs.readFileSync(file, 'utf8') });
  }
  return out;
}
