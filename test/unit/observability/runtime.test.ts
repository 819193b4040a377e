import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { IllegalStateError } from '@temporalio/common';
import { EngineMetrics } from '../../../src/observability/metrics';
import { installRuntime, runtimeMetricsUrl } from '../../../src/observability/runtime';

/** A loopback port that was free a moment ago. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('runtimeMetricsUrl', () => {
  it('scrapes a wildcard bind address over loopback', () => {
    assert.equal(runtimeMetricsUrl('127.0.0.1:9464'), 'http://127.0.0.1:9464/metrics');
    assert.equal(runtimeMetricsUrl('0.0.0.0:9464'), 'http://127.0.0.1:9464/metrics');
    assert.equal(runtimeMetricsUrl('[::]:9464'), 'http://[::1]:9464/metrics');
    assert.equal(
      runtimeMetricsUrl('metrics.internal:9464'),
      'http://metrics.internal:9464/metrics',
    );
  });

  it('refuses what is not host:port', () => {
    for (const bad of [
      '9464',
      ':9464',
      '127.0.0.1',
      '127.0.0.1:0',
      '127.0.0.1:70000',
      'http://x:1',
    ])
      assert.throws(() => runtimeMetricsUrl(bad), /metricsBindAddress must be host:port/, bad);
  });
});

// Runtime.install is once per process: this file is the only one that installs it.
describe('installRuntime', () => {
  it("starts Core's Prometheus exporter, which EngineMetrics appends; a second install throws", async () => {
    const port = await freePort();
    const url = installRuntime({ metricsBindAddress: `127.0.0.1:${port}`, logLevel: 'WARN' });
    assert.equal(url, `http://127.0.0.1:${port}/metrics`);
    const res = await fetch(url);
    assert.equal(res.status, 200);
    await res.text();
    const text = await new EngineMetrics({ runtimeMetricsUrl: url }).render();
    assert.doesNotMatch(text, /temporal runtime metrics unavailable/);
    assert.throws(() => installRuntime({}), IllegalStateError);
  });
});
