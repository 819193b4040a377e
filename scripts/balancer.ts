/**
 * The engine layout's load balancer (scripts/lib/round-robin-proxy.ts) as a process: round robin
 * over the HTTP services, skipping one that refuses connections. A stand-in for the real
 * balancer of a production set-up; Alipay's notify_url points at it.
 *
 * Env: BALANCER_PORT (default 7879), BALANCER_BACKENDS (comma-separated base URLs, required).
 */
import { startRoundRobinProxy } from './lib/round-robin-proxy';

async function main(): Promise<void> {
  if (process.argv.includes('--help') || process.argv.includes('-h')) {
    console.log(
      'usage: BALANCER_BACKENDS=http://127.0.0.1:7880,http://127.0.0.1:7881 [BALANCER_PORT=7879] tsx scripts/balancer.ts',
    );
    return;
  }
  const backends = (process.env.BALANCER_BACKENDS ?? '').split(',').filter(Boolean);
  if (backends.length === 0 || backends.some((b) => !/^https?:\/\/[^/]+$/.test(b)))
    throw new Error('BALANCER_BACKENDS: expected comma-separated base URLs (http://host:port)');
  const port = Number(process.env.BALANCER_PORT ?? 7879);
  if (!Number.isInteger(port) || port < 1 || port > 65535)
    throw new Error('BALANCER_PORT: expected a port number');
  const proxy = await startRoundRobinProxy(backends, port);
  console.log(JSON.stringify({ msg: 'balancer started', url: proxy.url, backends }));
  const stop = () => void proxy.close().then(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((err: unknown) => {
  console.error(`balancer: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
