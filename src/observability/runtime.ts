import { DefaultLogger, Runtime } from '@temporalio/worker';

/** Log levels of the SDK's {@link DefaultLogger}. */
export type RuntimeLogLevel = 'TRACE' | 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';

/** Options of {@link installRuntime}. */
export interface RuntimeInstallOptions {
  /**
   * `host:port` for the Temporal Core runtime's Prometheus exporter (e.g. `127.0.0.1:9464`);
   * omitted: Core metrics are not exported.
   */
  readonly metricsBindAddress?: string;
  /** Level of the SDK's logger (worker, workflow and activity logs). Default `INFO`. */
  readonly logLevel?: RuntimeLogLevel;
}

/**
 * Installs the process-wide Temporal Core runtime: the SDK logger at `logLevel` and, when
 * `metricsBindAddress` is given, Core's Prometheus exporter with Prometheus naming (`_total`
 * counters, unit suffixes, durations in seconds), its families prefixed `temporal_`.
 *
 * Returns the URL to scrape the runtime's metrics from (give it to `EngineMetrics` as
 * `runtimeMetricsUrl`), or undefined without an exporter. A wildcard bind address
 * (`0.0.0.0`, `::`) is scraped over loopback.
 *
 * Once per process, and before any `NativeConnection` or `Worker` is created: the runtime is a
 * singleton and `Runtime.install` throws an `IllegalStateError` when it already exists.
 */
export function installRuntime(opts: RuntimeInstallOptions = {}): string | undefined {
  const address = opts.metricsBindAddress;
  if (address !== undefined) checkBindAddress(address);
  Runtime.install({
    logger: new DefaultLogger(opts.logLevel ?? 'INFO'),
    ...(address !== undefined
      ? {
          telemetryOptions: {
            metrics: {
              prometheus: {
                bindAddress: address,
                countersTotalSuffix: true,
                unitSuffix: true,
                useSecondsForDurations: true,
              },
            },
          },
        }
      : {}),
  });
  return address === undefined ? undefined : runtimeMetricsUrl(address);
}

/** The scrape URL of an exporter bound to `address` (`host:port`; wildcards become loopback). */
export function runtimeMetricsUrl(address: string): string {
  const { host, port } = checkBindAddress(address);
  const target = host === '0.0.0.0' ? '127.0.0.1' : host === '[::]' ? '[::1]' : host;
  return `http://${target}:${port}/metrics`;
}

/** Splits `host:port` (IPv6 in brackets), refusing anything else with a message naming it. */
function checkBindAddress(address: string): { host: string; port: number } {
  const m = /^(\[[0-9A-Fa-f:.]+\]|[^\s:/[\]]+):(\d{1,5})$/.exec(address);
  const port = Number(m?.[2]);
  if (!m || !(port >= 1 && port <= 65535)) {
    throw new TypeError(
      `metricsBindAddress must be host:port (e.g. 127.0.0.1:9464), got ${JSON.stringify(address)}`,
    );
  }
  return { host: m[1] as string, port };
}
