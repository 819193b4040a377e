import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request as the local peer received it, bytes untouched. */
export interface Captured {
  readonly method: string;
  /** Path and query exactly as sent. */
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
}

/** What the peer answers: a response, or `hang` (accept and never answer). */
export type Reply =
  { status?: number; headers?: Record<string, string>; body: string | Buffer } | 'hang';

/** A loopback HTTP server standing in for `gateway.do`. */
export interface HttpPeer {
  /** `http://127.0.0.1:<port>/gateway.do` */
  readonly gatewayUrl: string;
  readonly requests: Captured[];
  /** Replaces the answer for the next requests. */
  reply(handler: (req: Captured) => Reply): void;
  close(): Promise<void>;
}

/** Starts a peer on 127.0.0.1:0. */
export async function startHttpPeer(
  handler: (req: Captured) => Reply = () => ({ body: '' }),
): Promise<HttpPeer> {
  let current = handler;
  const requests: Captured[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const captured: Captured = {
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks),
      };
      requests.push(captured);
      const reply = current(captured);
      if (reply === 'hang') return;
      res.writeHead(reply.status ?? 200, {
        'content-type': 'text/xml; charset=UTF-8',
        ...reply.headers,
      });
      res.end(reply.body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    gatewayUrl: `http://127.0.0.1:${port}/gateway.do`,
    requests,
    reply(h) {
      current = h;
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
