/**
 * The push stream's reconnection, over real HTTP on 127.0.0.1: a server whose stream drops after an event with an
 * ID, and which answers the resumption (Last-Event-ID) with a stream that never speaks, as the SDK's example server
 * without an event store does. The stream must give up on the silent resumption and open a fresh one.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { sessionStream } from '../../src/mcp/push-stream.js';

describe('PushStream reconnection', () => {
  const requests: Array<{ lastEventId: string | undefined; sessionId: string | undefined }> = [];
  let server: http.Server;
  let url: string;
  beforeAll(async () => {
    server = http.createServer((req, res) => {
      const lastEventId = req.headers['last-event-id'] as string | undefined;
      requests.push({ lastEventId, sessionId: req.headers['mcp-session-id'] as string | undefined });
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      if (requests.length === 1) {
        // First stream: one event with an ID, then the stream drops.
        res.end(`id: ev-1\ndata: ${JSON.stringify({ jsonrpc: '2.0', method: 'first' })}\n\n`);
      } else if (lastEventId !== undefined) {
        // The resumption: open, and silent for ever.
        res.flushHeaders();
      } else {
        res.write(`data: ${JSON.stringify({ jsonrpc: '2.0', method: 'fresh' })}\n\n`);
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/mcp`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('resumes with Last-Event-ID, and opens a fresh stream when the resumed one stays silent', async () => {
    const heard: string[] = [];
    let fresh: () => void = () => undefined;
    const gotFresh = new Promise<void>((resolve) => (fresh = resolve));
    const stream = sessionStream({
      url,
      headers: { authorization: 'Bearer x' },
      sessionId: 'session-1',
      protocolVersion: '2025-11-25',
      onMessage: (message) => {
        heard.push(String(message.method));
        if (message.method === 'fresh') fresh();
      },
    });
    stream.start();
    await gotFresh;
    await stream.close();
    expect(heard).toEqual(['first', 'fresh']);
    expect(requests.slice(0, 3)).toEqual([
      { lastEventId: undefined, sessionId: 'session-1' },
      { lastEventId: 'ev-1', sessionId: 'session-1' },
      { lastEventId: undefined, sessionId: 'session-1' },
    ]);
  });
});
