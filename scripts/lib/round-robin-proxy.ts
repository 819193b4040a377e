import http from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A stand-in for the load balancer in front of the HTTP services, as small as it gets: round
 * robin, and a backend that refuses the connection (stopped, restarting) is skipped for the next
 * one, as a real balancer's health check would. It counts the notifications each backend
 * acknowledged (`GET /balancer/stats`), so one can see they were spread; `GET /balancer/healthz`
 * is its own liveness. Everything else is forwarded as it is.
 */
export interface RoundRobinProxy {
  url: string;
  /** `success` answers to POST /alipay/notify, per backend URL. */
  acknowledged: Map<string, number>;
  close(): Promise<void>;
}

export async function startRoundRobinProxy(
  backends: readonly string[],
  port: number,
  host = '127.0.0.1',
): Promise<RoundRobinProxy> {
  const acknowledged = new Map(backends.map((b) => [b, 0]));
  let next = 0;
  const server = http.createServer((req, res) => {
    if (req.method === 'GET' && req.url === '/balancer/healthz') {
      res.writeHead(200).end('ok');
      return;
    }
    if (req.method === 'GET' && req.url === '/balancer/stats') {
      res
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify({ acknowledged: Object.fromEntries(acknowledged) }));
      return;
    }
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const first = next++ % backends.length;
      const attempt = (tried: number): void => {
        if (tried === backends.length) {
          res.writeHead(502).end('no backend');
          return;
        }
        const backend = backends[(first + tried) % backends.length] as string;
        const upstream = http.request(
          `${backend}${req.url ?? '/'}`,
          // One connection per request: a restarting backend cannot strand a pooled socket.
          { method: req.method, headers: req.headers, agent: false },
          (up) => {
            const parts: Buffer[] = [];
            up.on('data', (c: Buffer) => parts.push(c));
            up.on('end', () => {
              const answer = Buffer.concat(parts);
              if (
                req.url === '/alipay/notify' &&
                up.statusCode === 200 &&
                answer.toString() === 'success'
              )
                acknowledged.set(backend, (acknowledged.get(backend) ?? 0) + 1);
              res.writeHead(up.statusCode ?? 502, up.headers).end(answer);
            });
            up.on('error', () => res.destroy());
          },
        );
        upstream.on('error', (err: NodeJS.ErrnoException) => {
          // Refused: nothing reached that backend, the next one may take it.
          if (err.code === 'ECONNREFUSED' && !res.headersSent) attempt(tried + 1);
          else if (!res.headersSent) res.writeHead(502).end(`backend error ${err.code ?? ''}`);
        });
        upstream.end(body);
      };
      attempt(0);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, resolve);
  });
  return {
    url: `http://${host}:${(server.address() as AddressInfo).port}`,
    acknowledged,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
