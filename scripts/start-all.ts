/**
 * `npm start`: the whole engine on embedded defaults, in one process tree.
 *   - Temporal dev server (SQLite under .data/, Web UI on :8233, search attributes registered)
 *   - the Alipay sandbox simulator as the gateway (:8710)
 *   - the engine's worker
 * Ctrl-C stops all of it; the dev server's state survives a restart.
 */
import { Runtime, DefaultLogger } from '@temporalio/worker';
import { loadConfig } from '../src/config';
import { startSandbox } from '../src/sandbox';
import { DEFAULT_SANDBOX_PORT } from '../src/sandbox/defaults';
import { createWorker } from '../src/worker';
import { startDevServer, type DevServer } from './dev-server';

async function main(): Promise<void> {
  if (process.argv.includes('--help') || process.argv.includes('-h')) {
    console.log(
      'usage: npm start   (env: TEMPORAL_PORT=7233, TEMPORAL_UI_PORT=8233, SANDBOX_PORT=8710)',
    );
    return;
  }
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const stack: Array<() => Promise<void>> = [];
  let stopping = false;
  const stopAll = async (code: number): Promise<void> => {
    if (stopping) return;
    stopping = true;
    console.log('stopping…');
    for (const stop of stack.reverse()) await stop().catch((err: unknown) => console.error(err));
    process.exit(code);
  };
  process.once('SIGINT', () => void stopAll(0));
  process.once('SIGTERM', () => void stopAll(0));

  try {
    const port = Number(process.env.TEMPORAL_PORT ?? 7233);
    const uiPort = Number(process.env.TEMPORAL_UI_PORT ?? 8233);
    const server: DevServer = await startDevServer({ port, uiPort });
    stack.push(() => server.stop());

    const config = loadConfig({
      ...process.env,
      TEMPORAL_ADDRESS: process.env.TEMPORAL_ADDRESS ?? server.address,
    });
    // The simulator stands in for Alipay unless a real gateway is configured.
    const sandbox = config.alipay.embeddedSandbox
      ? await startSandbox({ port: Number(process.env.SANDBOX_PORT ?? DEFAULT_SANDBOX_PORT) })
      : undefined;
    if (sandbox) stack.push(() => sandbox.close());
    const { worker, run } = await createWorker(config);
    const running = run();
    stack.push(async () => {
      worker.shutdown();
      await running;
    });
    running.catch((err: unknown) => {
      console.error('worker failed:', err);
      void stopAll(1);
    });

    console.log(
      [
        '',
        'alipay-qr-engine is up:',
        `  Temporal Web UI     ${server.uiUrl}`,
        `  Temporal frontend   ${server.address} (namespace ${server.namespace})`,
        sandbox
          ? `  Alipay sandbox      ${sandbox.gatewayUrl}   (control: ${sandbox.url}/sandbox)`
          : `  Alipay gateway      ${config.alipay.gateway.gatewayUrl}`,
        `  worker              task queue ${config.temporal.taskQueue}`,
        '',
        'Ctrl-C stops everything.',
      ].join('\n'),
    );
  } catch (err) {
    console.error(`start: ${err instanceof Error ? err.message : String(err)}`);
    await stopAll(1);
  }
}

void main();
