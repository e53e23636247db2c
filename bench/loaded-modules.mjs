// A preload (`node --import ./bench/loaded-modules.mjs ...`) that appends the URL of every module the process loads
// to the file named by MCP_JOBS_LOADED_LOG: what a command really reads from disk at start.
import { register } from 'node:module';

const hooks = `
import { appendFileSync } from 'node:fs';
export async function load(url, context, next) {
  if (process.env.MCP_JOBS_LOADED_LOG) appendFileSync(process.env.MCP_JOBS_LOADED_LOG, url + '\\n');
  return next(url, context);
}`;
register(`data:text/javascript,${encodeURIComponent(hooks)}`);
