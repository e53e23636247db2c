/**
 * Secrets a server URL can carry. Credentials (`user:pass@`) are refused when the URL is parsed, but a query string
 * (`?token=…`) is how some servers take their key: its values are masked like header values. The URL is stored in
 * the job record (later steps reconnect with it), so every step that reads a record masks its URL before it logs.
 */
import type { ActionHost } from './host.js';

/** Query values shorter than this are masked only within their `name=value` pair: a `v=1` must not mask every 1. */
export const MIN_MASKED_QUERY_VALUE = 4;

/**
 * What to mask for a server URL: the whole query string, each `name=value` pair as written, and each value (as
 * written and decoded) of at least MIN_MASKED_QUERY_VALUE characters. The URL as logged therefore never shows a
 * query value. Nothing for a URL without a query, or one that does not parse.
 */
export function serverUrlSecrets(url: string): string[] {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return [];
  }
  const query = parsed.search.slice(1);
  if (query === '') return [];
  const found = new Set<string>([query]);
  for (const pair of query.split('&')) {
    if (pair === '') continue;
    found.add(pair);
    const eq = pair.indexOf('=');
    const raw = eq < 0 ? '' : pair.slice(eq + 1);
    for (const value of [raw, decodeQueryValue(raw)]) if (value.length >= MIN_MASKED_QUERY_VALUE) found.add(value);
  }
  return [...found];
}

function decodeQueryValue(raw: string): string {
  try {
    return decodeURIComponent(raw.replace(/\+/g, ' '));
  } catch {
    return raw;
  }
}

/**
 * Masks the query values of a server URL. Call it as soon as a URL is known and before anything is logged: right
 * after parsing the `server` input, and right after reading a job record whose URL a step will contact or report.
 */
export function maskServerUrl(host: Pick<ActionHost, 'setSecret'>, url: string): void {
  for (const secret of serverUrlSecrets(url)) host.setSecret(secret);
}
