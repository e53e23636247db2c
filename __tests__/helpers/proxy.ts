/**
 * A loopback TCP proxy that can be switched off and on at the same port: the server behind it keeps its sessions,
 * while clients see connections refused. That is a server that is unreachable for a while, then back.
 */
import net from 'node:net';

export interface TcpProxy {
  readonly port: number;
  readonly url: string;
  /** Stops listening and cuts every open connection: new connections are refused. */
  off(): Promise<void>;
  /** Listens again on the same port. */
  on(): Promise<void>;
}

export async function startTcpProxy(targetPort: number, path = '/mcp'): Promise<TcpProxy> {
  const sockets = new Set<net.Socket>();
  let server: net.Server | undefined;
  let port = 0;
  const listen = () =>
    new Promise<void>((resolve, reject) => {
      server = net.createServer((client) => {
        const upstream = net.connect(targetPort, '127.0.0.1');
        for (const s of [client, upstream]) {
          sockets.add(s);
          s.on('close', () => sockets.delete(s));
          s.on('error', () => s.destroy());
        }
        client.pipe(upstream).pipe(client);
      });
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        port = (server!.address() as net.AddressInfo).port;
        resolve();
      });
    });
  await listen();
  return {
    get port() {
      return port;
    },
    get url() {
      return `http://127.0.0.1:${port}${path}`;
    },
    off: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server?.close(() => resolve());
      }),
    on: listen,
  };
}
