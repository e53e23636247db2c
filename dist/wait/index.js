// The 'wait' entry point of mcp-jobs, written by scripts/build.mjs. The code is the bundle all entries share.
import { run } from '../bundle/index.js';

run('wait');
