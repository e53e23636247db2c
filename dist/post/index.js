// The 'post' entry point of mcp-jobs, written by scripts/build.mjs. The code is the bundle all entries share.
// On a runner, Node 22.1+ keeps the compiled bundle under RUNNER_TEMP, so later steps of the job start faster.
import module from 'node:module';
const temp = process.env.RUNNER_TEMP;
if (temp) try { module.enableCompileCache?.(`${temp}/mcp-jobs-compile-cache`); } catch { /* it only saves time */ }
const { run } = await import('../bundle/index.js');
run('post');
