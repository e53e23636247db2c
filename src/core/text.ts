/** Untrusted text (anything an MCP server sent) made safe to print on one log line. */
export function inert(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/\r\n|[\r\n]/g, '\\n').replace(/[\u0000-\u0008\u000b-\u001f\u007f]/g, '');
}
