// The sandbox's model of an instance without a route to S3 (a private subnet with only the SSM
// interface endpoints, no S3 gateway endpoint, no NAT): connections to S3 hang and are never refused.
// The sandbox's S3 is on the same loopback address as its SSM, so no route can be taken away; instead
// the instance's standard proxy variables point at a listener that accepts connections and never says
// anything. Python's urllib (the wrapper), curl, wget and the AWS CLI all honour those variables, so
// every HTTP(S) request from the instance, presigned or not, waits for an answer that never comes.
import { createServer, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';

export interface BlackHole {
  /** http_proxy, https_proxy (both cases) pointing at the listener; no_proxy unset. */
  proxyEnvironment: Record<string, string>;
  close(): void;
}

export async function startBlackHole(): Promise<BlackHole> {
  const held = new Set<Socket>();
  const server = createServer((socket) => {
    held.add(socket);
    socket.on('error', () => undefined);
    socket.on('close', () => held.delete(socket));
    socket.resume(); // read and drop whatever the client sends; answer nothing
  });
  server.unref(); // never what keeps a process alive
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const proxy = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    proxyEnvironment: { http_proxy: proxy, https_proxy: proxy, HTTP_PROXY: proxy, HTTPS_PROXY: proxy },
    close() {
      for (const socket of held) socket.destroy();
      server.close();
    },
  };
}
