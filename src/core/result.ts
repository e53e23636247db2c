/** What a tool result says, for every host that reports one: its text blocks, and whether it is an error. */
import type { JobRecord } from './record.js';

interface ToolResult {
  content?: Array<{ type?: string; text?: string }>;
  structuredContent?: unknown;
  isError?: boolean;
}

function asToolResult(value: unknown): ToolResult | undefined {
  return value !== null && typeof value === 'object' ? (value as ToolResult) : undefined;
}

/** A tool result's structured content, if it has one. */
export function structuredContent(result: unknown): unknown {
  return asToolResult(result)?.structuredContent;
}

/** The text blocks of a tool result, joined by newlines. */
export function resultText(result: unknown): string {
  const content = asToolResult(result)?.content;
  if (!Array.isArray(content)) return '';
  return content
    .filter((block) => block?.type === 'text' && typeof block.text === 'string')
    .map((block) => block.text)
    .join('\n');
}

/** True when the tool reported an error or the job failed. */
export function isErrorResult(record: JobRecord): boolean {
  return record.status === 'failed' || asToolResult(record.result)?.isError === true;
}
