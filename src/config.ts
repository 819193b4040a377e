import { loadClientConnectConfig, type ClientConnectConfig } from '@temporalio/envconfig';
import { EngineError } from './errors';

/**
 * The engine's configuration: read from the environment once, at start-up, validated as a whole
 * (every problem reported at once), then passed down. Nothing else reads `process.env`.
 *
 * Temporal follows the `@temporalio/envconfig` conventions (`TEMPORAL_ADDRESS`,
 * `TEMPORAL_NAMESPACE`, `TEMPORAL_API_KEY`, `TEMPORAL_TLS_*`, `TEMPORAL_PROFILE`, a TOML file);
 * with nothing set it points at the local dev server.
 */
export interface EngineConfig {
  temporal: {
    connection: ClientConnectConfig['connectionOptions'];
    namespace: string;
    taskQueue: string;
  };
}

export class ConfigError extends EngineError {
  readonly code = 'INVALID_CONFIG';
  readonly retryable = false;
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  - ${problems.join('\n  - ')}`);
  }
}

export const DEFAULT_TASK_QUEUE = 'alipay-qr-engine';

export function loadConfig(env: NodeJS.ProcessEnv = process.env): EngineConfig {
  const problems: string[] = [];
  let connect: ClientConnectConfig | undefined;
  try {
    connect = loadClientConnectConfig({ overrideEnvVars: env as Record<string, string> });
  } catch (err) {
    problems.push(`Temporal connection (TEMPORAL_*): ${err instanceof Error ? err.message : String(err)}`);
  }
  const taskQueue = env.ENGINE_TASK_QUEUE ?? DEFAULT_TASK_QUEUE;
  if (!/^[\w.-]{1,200}$/.test(taskQueue)) problems.push(`ENGINE_TASK_QUEUE ${JSON.stringify(taskQueue)} is not a valid task queue name`);
  if (problems.length > 0 || !connect) throw new ConfigError(problems);
  return {
    temporal: {
      connection: { ...connect.connectionOptions, address: connect.connectionOptions.address ?? '127.0.0.1:7233' },
      namespace: connect.namespace ?? 'default',
      taskQueue,
    },
  };
}
