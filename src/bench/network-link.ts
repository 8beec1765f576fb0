/**
 * A TCP proxy on loopback that stands for the network (or a load balancer) between clients and
 * gateways: it forwards each connection to the current upstream, and it can cut every connection
 * at once, as a dropped Wi-Fi or a dead node does (the client sees the socket die, no close frame).
 * The resume bench drops its callers with it; tests use it as the network too.
 */
import { connect, createServer, type Socket } from 'node:net';

export interface TcpProxy {
  port: number;
  /** Where new connections go from now on (host:port). */
  setUpstream(address: string): void;
  /** Destroys every open connection, both ways. */
  cutAll(): number;
  close(): Promise<void>;
}

export async function startTcpProxy(upstream: string): Promise<TcpProxy> {
  let target = upstream;
  const open = new Set<Socket>();
  const server = createServer((client) => {
    const [host, port] = splitAddress(target);
    const backend = connect(port, host);
    for (const socket of [client, backend]) {
      open.add(socket);
      socket.on('close', () => open.delete(socket));
      socket.on('error', () => undefined);
    }
    client.pipe(backend);
    backend.pipe(client);
    client.on('close', () => backend.destroy());
    backend.on('close', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as { port: number }).port,
    setUpstream: (address) => {
      target = address;
    },
    cutAll() {
      const count = open.size;
      for (const socket of open) socket.resetAndDestroy();
      return count;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of open) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

function splitAddress(address: string): [string, number] {
  const at = address.lastIndexOf(':');
  return [address.slice(0, at), Number(address.slice(at + 1))];
}
