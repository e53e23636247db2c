#!/usr/bin/env node
/**
 * The baseline of bench/run.mjs section 8: a bare node script that starts a stdio MCP server, sends `initialize`
 * and reads the reply, then exits (killing the server). No client library, no job record.
 *
 *   node bench/bare-stdio.mjs <program> [args...]
 */
import { spawn } from 'node:child_process';

const [program, ...args] = process.argv.slice(2);
const server = spawn(program, args, { stdio: ['pipe', 'pipe', 'ignore'] });
const initialize = {
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'bare-stdio', version: '0.0.0' } },
};
server.stdin.write(`${JSON.stringify(initialize)}\n`);
let buffer = '';
server.stdout.setEncoding('utf8');
server.stdout.on('data', (chunk) => {
  buffer += chunk;
  for (const line of buffer.split('\n').slice(0, -1)) {
    if (JSON.parse(line).id === 1) {
      process.stdout.write('INITIALIZED\n');
      server.kill('SIGKILL');
      process.exit(0);
    }
  }
});
server.once('exit', (code) => {
  process.stderr.write(`the server exited (${code}) before it answered initialize\n`);
  process.exit(1);
});
