/**
 * Preload for bench/run.mjs (`node --import bench/peak-rss.mjs dist/wait/index.js`): when the process exits, writes
 * its peak resident set size in KiB (`process.resourceUsage().maxRSS`, getrusage's ru_maxrss: the same figure as
 * VmHWM in /proc/<pid>/status and `/usr/bin/time -v`'s "Maximum resident set size") to the file named by
 * BENCH_PEAK_RSS_FILE. Runs on every exit path that emits 'exit' (return, process.exit, an uncaught error).
 */
import { writeFileSync } from 'node:fs';

const file = process.env.BENCH_PEAK_RSS_FILE;
if (file) {
  process.on('exit', () => {
    try {
      writeFileSync(file, String(process.resourceUsage().maxRSS));
    } catch {
      // the bench reports a missing figure
    }
  });
}
