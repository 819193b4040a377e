/**
 * `npm start`: the whole engine on embedded defaults, in one process tree.
 *   - Temporal dev server (SQLite under .data/, Web UI on :8233, search attributes registered)
 *   - the Alipay sandbox simulator as the gateway (:8710)
 *   - the engine's worker
 *   - the HTTP service: notification receiver, merchant API (:8080); admin listener with
 *     /readyz and /metrics on loopback (:8081)
 * Ctrl-C stops all of it; the dev server's state survives a restart.
 */
import { loadConfig } from '../src/config';
import { EngineMetrics } from '../src/observability/metrics';
import { installRuntime } from '../src/observability/runtime';
import { startSandbox } from '../src/sandbox';
import { DEFAULT_SANDBOX_PORT, DEFAULT_SANDBOX_SFTP_PORT } from '../src/sandbox/defaults';
import { startHttpService } from '../src/server/main';
import { createWorker } from '../src/worker';
import { reconciliationScheduleId } from '../src/workflows/reconciliation-types';
import { startDevServer, type DevServer } from './dev-server';

async function main(): Promise<void> {
  if (process.argv.includes('--help') || process.argv.includes('-h')) {
    console.log(
      'usage: npm start   (env: TEMPORAL_PORT=7233, TEMPORAL_UI_PORT=8233, SANDBOX_PORT=8710, SANDBOX_SFTP_PORT=8722, HTTP_PORT=8080, ADMIN_PORT=8081; see README "Configuration")',
    );
    return;
  }
  let config0: ReturnType<typeof loadConfig>;
  try {
    config0 = loadConfig(); // fail fast on a bad environment, before anything starts
  } catch (err) {
    console.error(`start: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  }
  const runtimeMetricsUrl = config0.observability.runtimeMetricsAddress
    ? installRuntime({
        metricsBindAddress: config0.observability.runtimeMetricsAddress,
        logLevel: 'WARN',
      })
    : installRuntime({ logLevel: 'WARN' });
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
    // A configured Temporal (TEMPORAL_ADDRESS, e.g. Temporal Cloud) is used as it is; otherwise
    // the local dev server comes up with its SQLite file.
    let server: DevServer | undefined;
    if (process.env.TEMPORAL_ADDRESS === undefined) {
      const port = Number(process.env.TEMPORAL_PORT ?? 7233);
      const uiPort = Number(process.env.TEMPORAL_UI_PORT ?? 8233);
      server = await startDevServer({ port, uiPort });
      const dev = server;
      stack.push(() => dev.stop());
    }
    const config = server
      ? loadConfig({ ...process.env, TEMPORAL_ADDRESS: server.address })
      : config0;
    // The simulator stands in for Alipay unless a real gateway is configured.
    const sandbox = config.alipay.embeddedSandbox
      ? await startSandbox({
          port: Number(process.env.SANDBOX_PORT ?? DEFAULT_SANDBOX_PORT),
          // Alipay's daily files, where the engine's reconciliation looks for them.
          sftp: { port: config.reconciliation?.sftp.port ?? DEFAULT_SANDBOX_SFTP_PORT },
          // Alipay never forgets: codes, trades and refunds survive a restart, like Temporal's.
          stateFile: `${__dirname}/../.data/sandbox-state.json`,
        })
      : undefined;
    if (sandbox) stack.push(() => sandbox.close());
    const http: { engine?: { countPaymentsByStatus(): Promise<Record<string, number>> } } = {};
    const metrics = new EngineMetrics({
      ...(runtimeMetricsUrl ? { runtimeMetricsUrl } : {}),
      countPaymentsByStatus: async () => (http.engine ? http.engine.countPaymentsByStatus() : {}),
    });
    const { worker, run } = await createWorker(config, undefined, { metrics });
    const running = run();
    stack.push(async () => {
      // The SDK's own SIGINT/SIGTERM handler may have begun shutting it down already.
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await running;
    });
    running.catch((err: unknown) => {
      console.error('worker failed:', err);
      void stopAll(1);
    });
    const service = await startHttpService(config, { metrics });
    http.engine = service.engine;
    stack.push(() => service.close());
    const key = config.http.defaultApiKey
      ? config.http.merchantApiKeys[0]
      : '<one of MERCHANT_API_KEYS>';

    console.log(
      [
        '',
        'alipay-qr-engine is up:',
        server
          ? `  Temporal Web UI     ${server.uiUrl}`
          : "  Temporal Web UI     (your cluster's UI)",
        `  Temporal frontend   ${config.temporal.connection.address} (namespace ${config.temporal.namespace})`,
        sandbox
          ? `  Alipay sandbox      ${sandbox.gatewayUrl}   (control: ${sandbox.url}/sandbox)`
          : `  Alipay gateway      ${config.alipay.gateway.gatewayUrl}`,
        `  worker              task queue ${config.temporal.taskQueue}`,
        config.reconciliation
          ? `  reconciliation      sftp://${config.reconciliation.sftp.username}@${config.reconciliation.sftp.host}:${config.reconciliation.sftp.port}${config.reconciliation.sftp.directory}, daily at ${config.reconciliation.scheduleHourGmt8}:00 GMT+8 (Schedule ${reconciliationScheduleId(config.alipay.gateway.partner)})`
          : '  reconciliation      off (no RECON_SFTP_HOST)',
        `  Alipay notify URL   ${service.url}/alipay/notify   (notify_url given to CREATE: ${config.alipay.gateway.notifyUrl})`,
        `  merchant API        ${service.url}/v1   (Authorization: Bearer ${key})`,
        `  API reference       ${service.url}/v1/docs   (OpenAPI: ${service.url}/v1/openapi.json)`,
        `  admin (operators)   ${service.adminUrl}/readyz   ${service.adminUrl}/metrics`,
        '',
        'Try it: npm run demo   (in another terminal). Ctrl-C stops everything.',
      ].join('\n'),
    );
  } catch (err) {
    console.error(`start: ${err instanceof Error ? err.message : String(err)}`);
    await stopAll(1);
  }
}

void main();
