import { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { DEV_SERVER_DYNAMIC_CONFIG } from '../../scripts/dev-server';
import { temporalCliPath, testServerPath } from '../../scripts/lib/temporal-tools';
import { temporal } from '@temporalio/proto';
import { ENGINE_SEARCH_ATTRIBUTES } from '../../src/search-attributes';

/**
 * Temporal environments for tests, from the registry-installed servers (never the SDK's own
 * download, which cannot reach the internet here). Each starts on a free loopback port; create
 * them one at a time (the SDK gives a server 5 s to come up) and tear them down in `after`.
 */

// Workers in tests log warnings only: the runner's report stays readable.
Runtime.install({ logger: new DefaultLogger('WARN') });

/** The time-skipping test server: workflow tests that skip hours and days. No visibility list API. */
export async function createTimeSkippingEnv(): Promise<TestWorkflowEnvironment> {
  const env = await TestWorkflowEnvironment.createTimeSkipping({
    server: { executable: { type: 'existing-path', path: testServerPath() } },
  });
  // The test server rejects upserts of unregistered attributes; register ours as on a real server.
  await env.connection.operatorService.addSearchAttributes({
    namespace: env.namespace ?? 'default',
    searchAttributes: Object.fromEntries(
      ENGINE_SEARCH_ATTRIBUTES.map((key) => [key.name, INDEXED_VALUE_TYPES[key.type]]),
    ),
  });
  return env;
}

const IndexedValueType = temporal.api.enums.v1.IndexedValueType;
const INDEXED_VALUE_TYPES = {
  TEXT: IndexedValueType.INDEXED_VALUE_TYPE_TEXT,
  KEYWORD: IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
  INT: IndexedValueType.INDEXED_VALUE_TYPE_INT,
  DOUBLE: IndexedValueType.INDEXED_VALUE_TYPE_DOUBLE,
  BOOL: IndexedValueType.INDEXED_VALUE_TYPE_BOOL,
  DATETIME: IndexedValueType.INDEXED_VALUE_TYPE_DATETIME,
  KEYWORD_LIST: IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD_LIST,
} as const;

/** A real dev server (in-memory SQLite) with the engine's search attributes and dynamic config. */
export function createLocalEnv(): Promise<TestWorkflowEnvironment> {
  return TestWorkflowEnvironment.createLocal({
    server: {
      executable: { type: 'existing-path', path: temporalCliPath() },
      ip: '127.0.0.1',
      searchAttributes: [...ENGINE_SEARCH_ATTRIBUTES],
      extraArgs: DEV_SERVER_DYNAMIC_CONFIG.flatMap((kv) => ['--dynamic-config-value', kv]),
    },
  });
}
