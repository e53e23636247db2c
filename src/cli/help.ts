/** `--help` of every command. */
import { EXIT_TABLE } from './exit.js';

const GLOBAL = `Global options (before the command):
  --server URL            the MCP server (streamable HTTP) for tools and call
  --command "CMDLINE"     or a stdio MCP server: its command line, split like a shell (no expansion), started in
                          the current directory with this environment (give its keys in the environment)
  --header "Name: value"  a header for every request (repeatable); never stored, masked in output
  --protocol P            auto (default), 2025-11-25 or 2026-07-28
  --instance NAME         namespace of job records (default: default, or MCP_JOBS_INSTANCE)
  --state-dir DIR         where job records live (default: MCP_JOBS_STATE_DIR, else $RUNNER_TEMP/mcp-jobs on a
                          GitHub runner, else $XDG_STATE_HOME/mcp-jobs, else ~/.local/state/mcp-jobs)
  --store KIND            local (default), auto, cache or artifact (the shared stores need an Actions runtime)
  --json                  print exactly one JSON document on stdout (watch: one JSON object per line)
  --help, --version`;

const EXITS = `Exit codes:\n${EXIT_TABLE.map(([code, what]) => `  ${String(code).padEnd(4)}${what}`).join('\n')}`;

const TOPICS: Record<string, string> = {
  '': `mcp-jobs: run long MCP tool calls as background jobs.

Usage: mcp-jobs [global options] <command> [options]

Commands:
  tools                          the server's tools and their task support
  call TOOL [tool flags]         call a tool as a task; --background returns at once with the job ID
  jobs list|show|wait|cancel|watch|prune
                                 manage jobs (mcp-jobs jobs --help)

${GLOBAL}

${EXITS}`,
  tools: `Usage: mcp-jobs --server URL [--header "Name: value"] tools
       mcp-jobs --command "CMDLINE" tools

Lists the server's tools, each with its task support (required, optional, forbidden) and description.
--json: an array of {name, description, task_support, input_schema}.`,
  call: `Usage: mcp-jobs --server URL|--command "CMDLINE" call TOOL [tool flags] [--args JSON] [--background]
                        [--timeout DUR] [--job-key K]

Calls TOOL as an MCP task. A server (or tool) without task support, and a stdio server, run the call in the
background job runner with --background (it lives as long as this machine's session or workflow job), or in this
process without it. Tool flags come from the tool's input schema: --name value for strings, numbers
and integers (parsed), --flag / --no-flag for booleans, enums checked, arrays by repeating the flag, objects as
JSON. --args '{...}' gives arguments at once (flags win over it). mcp-jobs call TOOL --help lists a tool's flags.

  --background   print "Job submitted: job_… (task: …)" and return at once; without it, wait and print the result
  --timeout DUR  give the job up this long after submit (90s, 15m, 2h): the task is cancelled, exit 4
  --job-key K    submit once per key: a job already submitted with K (not ended) is adopted, not submitted again

--json: {"data": job} (see the README for the job's fields), e.g. jq -r '.data.job_id'.

${EXITS}`,
  jobs: `Usage: mcp-jobs [global options] jobs <command>

  list [--status S] [--limit N]      one line per job, newest first: job_id tool status task_id created_at
  show ID|--latest                   where a job stands (asks the server when the job has not ended)
  wait ID|--latest [--timeout DUR] [--no-cancel-on-timeout] [--input-responses JSON]
                                     wait for the end and print the result; SIGINT/SIGTERM cancel the task
  cancel ID|--latest [--reason R]    cancel the task and report the status the server holds
  watch ID|--latest [wait options]   stream status changes until the end (--json: job_update JSON lines)
  prune [--older-than DUR] [--dry-run]
                                     remove ended jobs' records

${EXITS}`,
  'jobs list': `Usage: mcp-jobs [--json] jobs list [--status S] [--limit N]

One line per job of the instance, newest first: job_id tool status task_id created_at. Reads the records only.
--status: queued, running, input_required, completed, failed or canceled. --json: an array of jobs.`,
  'jobs show': `Usage: mcp-jobs [--json] jobs show ID|--latest

status: <local>, remote status: <server's>, then the status message, tool, arguments (redacted), times, deadline,
result or error. A job that has not ended is looked up on the server (tasks/get); an ended one is not.
Never fails because the job is still running. --json: {"data": job}, e.g. jq '.data.remote'.`,
  'jobs wait': `Usage: mcp-jobs [--json] jobs wait ID|--latest [--timeout DUR] [--no-cancel-on-timeout] [--input-responses JSON]

Waits for the job to end, logging status changes on stderr, then prints the result. --timeout overrides the job's
deadline; at it the task is cancelled (unless --no-cancel-on-timeout) and the exit code is 4. SIGINT or SIGTERM
cancel the remote task and exit 130. --input-responses answers the server's questions (as the Action's input).
--json: {"data": job}, e.g. jq '.data.result'.

${EXITS}`,
  'jobs cancel': `Usage: mcp-jobs [--json] jobs cancel ID|--latest [--reason R]

Sends tasks/cancel and reports the status the server then holds. A job that already ended is left as it is.`,
  'jobs watch': `Usage: mcp-jobs [--json] jobs watch ID|--latest [--timeout DUR] [--no-cancel-on-timeout] [--input-responses JSON]

Streams the job's status changes and status messages as lines until it ends, then exits with wait's exit code.
--json: one JSON object per line, {"event": "job_update", "phase": "initial"|"change"|"end", "at", "data": job}.

${EXITS}`,
  'jobs prune': `Usage: mcp-jobs [--json] jobs prune [--older-than DUR] [--dry-run]

Removes the records (and large results) of ended jobs (completed, failed, canceled) that ended at least DUR ago
(default: every ended job). Unfinished jobs are never removed. --json: an array of the removed jobs.`,
};

export function helpText(topic: string[]): string {
  const key = topic.join(' ');
  return TOPICS[key] ?? TOPICS[topic[0] ?? ''] ?? TOPICS['']!;
}
