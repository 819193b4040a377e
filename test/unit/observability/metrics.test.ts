import assert from 'node:assert/strict';
import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { EngineMetrics, joinExposition } from '../../../src/observability/metrics';

/** Samples of an exposition text, keyed `name{a="1",b="2"}` with the labels sorted. */
function samples(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)/.exec(line);
    assert.ok(m, `not a sample line: ${line}`);
    const labels = (m[2] ?? '')
      .split(/,(?=[a-zA-Z_]\w*=")/)
      .filter(Boolean)
      .sort()
      .join(',');
    out.set(`${m[1]}{${labels}}`, Number(m[3]));
  }
  return out;
}

/** Every metric family is described once: the combined text is a valid exposition. */
function assertFamiliesUnique(text: string): void {
  const types = text
    .split('\n')
    .filter((l) => l.startsWith('# TYPE '))
    .map((l) => l.split(' ')[2]);
  assert.deepEqual(
    types.filter((t, i) => types.indexOf(t) !== i),
    [],
    'duplicate metric families',
  );
}

async function listen(handler: RequestListener): Promise<{ server: Server; url: string }> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { server, url: `http://127.0.0.1:${port}/metrics` };
}

const close = (server: Server): Promise<void> =>
  new Promise((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  });

describe('EngineMetrics: counters and histograms', () => {
  it('records every kind of event with its labels', async () => {
    const m = new EngineMetrics();
    m.notificationReceived();
    m.notificationReceived();
    m.notificationVerified();
    m.notificationRejected('BAD_SIGNATURE');
    m.notificationRejected('BAD_SIGNATURE');
    m.notificationRejected('TOO_LARGE');
    m.notificationAcknowledged(0.02);
    m.notificationFailed('TEMPORAL');
    m.gatewayCall('QUERY', 'ok', 0.2);
    m.gatewayCall('QUERY', 'ALIPAY_TIMEOUT', 12);
    m.observeGateway({ service: 'REFUND', outcome: 'ok', seconds: 0.04 });
    m.refund('SUCCEEDED', 'merchant');
    m.refund('RETRY', 'reversal');
    m.cancel('UNKNOWN');
    m.httpRequest('/payments/:id', 'get', 200, 0.003);
    const s = samples(await m.render());
    const expected: Record<string, number> = {
      'alipay_engine_notifications_received_total{}': 2,
      'alipay_engine_notifications_verified_total{}': 1,
      'alipay_engine_notifications_rejected_total{reason="BAD_SIGNATURE"}': 2,
      'alipay_engine_notifications_rejected_total{reason="TOO_LARGE"}': 1,
      'alipay_engine_notifications_failed_total{reason="TEMPORAL"}': 1,
      'alipay_engine_notification_ack_seconds_count{}': 1,
      'alipay_engine_notification_ack_seconds_bucket{le="0.025"}': 1,
      'alipay_engine_notification_ack_seconds_bucket{le="0.01"}': 0,
      'alipay_engine_gateway_calls_total{outcome="ok",service="QUERY"}': 1,
      'alipay_engine_gateway_calls_total{outcome="ALIPAY_TIMEOUT",service="QUERY"}': 1,
      'alipay_engine_gateway_calls_total{outcome="ok",service="REFUND"}': 1,
      'alipay_engine_gateway_call_seconds_count{service="QUERY"}': 2,
      'alipay_engine_gateway_call_seconds_bucket{le="0.05",service="REFUND"}': 1,
      'alipay_engine_gateway_call_seconds_bucket{le="10",service="QUERY"}': 1,
      'alipay_engine_gateway_call_seconds_bucket{le="20",service="QUERY"}': 2,
      'alipay_engine_gateway_call_seconds_bucket{le="30",service="QUERY"}': 2,
      'alipay_engine_refunds_total{kind="merchant",outcome="SUCCEEDED"}': 1,
      'alipay_engine_refunds_total{kind="reversal",outcome="RETRY"}': 1,
      'alipay_engine_cancels_total{outcome="UNKNOWN"}': 1,
      'alipay_engine_http_requests_total{method="GET",route="/payments/:id",status="200"}': 1,
      'alipay_engine_http_request_seconds_bucket{le="0.005",method="GET",route="/payments/:id"}': 1,
    };
    for (const [key, value] of Object.entries(expected)) assert.equal(s.get(key), value, key);
    assert.ok(
      (s.get('alipay_engine_gateway_call_seconds_sum{service="QUERY"}') ?? 0) > 12,
      'latency sum',
    );
  });

  it('includes process metrics under the engine prefix, and the Prometheus content type', async () => {
    const m = new EngineMetrics();
    const text = await m.render();
    assert.match(text, /^alipay_engine_process_cpu_seconds_total /m);
    assert.match(text, /^alipay_engine_nodejs_heap_size_used_bytes /m);
    assert.equal(m.contentType, 'text/plain; version=0.0.4; charset=utf-8');
    assertFamiliesUnique(text);
  });

  it('keeps instances apart (own registry each)', async () => {
    const a = new EngineMetrics();
    const b = new EngineMetrics();
    a.cancel('SUCCEEDED');
    assert.equal(
      samples(await a.render()).get('alipay_engine_cancels_total{outcome="SUCCEEDED"}'),
      1,
    );
    assert.equal(
      samples(await b.render()).get('alipay_engine_cancels_total{outcome="SUCCEEDED"}'),
      undefined,
    );
  });

  it('never throws: bad durations are skipped, odd labels clipped, the count still kept', async () => {
    const m = new EngineMetrics();
    assert.doesNotThrow(() => {
      m.gatewayCall('QUERY', 'ok', Number.NaN);
      m.gatewayCall('QUERY', 'ok', -1);
      m.httpRequest('/x', 'post', 500, Infinity);
      m.notificationAcknowledged(Number.NaN);
      m.notificationRejected('');
      m.notificationRejected('R'.repeat(500));
      m.refund(undefined as unknown as string, 'merchant');
    });
    const s = samples(await m.render());
    assert.equal(s.get('alipay_engine_gateway_calls_total{outcome="ok",service="QUERY"}'), 2);
    assert.equal(s.get('alipay_engine_gateway_call_seconds_count{service="QUERY"}'), undefined);
    assert.equal(
      s.get('alipay_engine_http_request_seconds_count{method="POST",route="/x"}'),
      undefined,
    );
    assert.equal(
      s.get('alipay_engine_http_requests_total{method="POST",route="/x",status="500"}'),
      1,
    );
    assert.equal(s.get('alipay_engine_notifications_rejected_total{reason="unknown"}'), 1);
    assert.equal(
      s.get(`alipay_engine_notifications_rejected_total{reason="${'R'.repeat(64)}"}`),
      1,
    );
    assert.equal(s.get('alipay_engine_refunds_total{kind="merchant",outcome="undefined"}'), 1);
  });
});

describe('EngineMetrics: payments by status', () => {
  const paymentsOf = (s: Map<string, number>): Record<string, number> =>
    Object.fromEntries(
      [...s]
        .filter(([k]) => k.startsWith('alipay_engine_payments{'))
        .map(([k, v]) => [/status="([^"]*)"/.exec(k)![1], v]),
    );

  it('asks the counter once per cache period', async () => {
    let calls = 0;
    const m = new EngineMetrics({
      paymentsCacheMs: 200,
      countPaymentsByStatus: async () => {
        calls++;
        return { PAID: calls, REFUNDED: 1 };
      },
    });
    const [first] = await Promise.all([m.render(), m.render()]);
    assert.deepEqual(paymentsOf(samples(first)), { PAID: 1, REFUNDED: 1 });
    assert.deepEqual(paymentsOf(samples(await m.render())), { PAID: 1, REFUNDED: 1 });
    assert.equal(calls, 1);
    await new Promise((r) => setTimeout(r, 250));
    assert.deepEqual(paymentsOf(samples(await m.render())), { PAID: 2, REFUNDED: 1 });
    assert.equal(calls, 2);
  });

  it('survives a failing counter: last values kept, the error counted, retried next period', async () => {
    let calls = 0;
    const m = new EngineMetrics({
      paymentsCacheMs: 0,
      countPaymentsByStatus: async (): Promise<Record<string, number>> => {
        calls++;
        if (calls === 2) throw new Error('visibility unavailable');
        return calls === 1 ? { PAID: 3, CLOSED: 2 } : { PAID: 4 };
      },
    });
    assert.deepEqual(paymentsOf(samples(await m.render())), { PAID: 3, CLOSED: 2 });
    const failed = samples(await m.render());
    assert.deepEqual(paymentsOf(failed), { PAID: 3, CLOSED: 2 });
    assert.equal(failed.get('alipay_engine_metrics_collect_errors_total{source="payments"}'), 1);
    // A status that disappears from the counts reads 0 rather than its stale value.
    assert.deepEqual(paymentsOf(samples(await m.render())), { PAID: 4, CLOSED: 0 });
    assert.equal(calls, 3);
  });

  it('has no payments gauge without a counter', async () => {
    assert.doesNotMatch(await new EngineMetrics().render(), /alipay_engine_payments/);
  });
});

describe('EngineMetrics: the Temporal runtime exporter', () => {
  const RUNTIME_TEXT = [
    '# HELP temporal_request_total Count of client request successes by rpc name',
    '# TYPE temporal_request_total counter',
    'temporal_request_total{operation="PollWorkflowTaskQueue",service_name="temporal-core-sdk"} 7',
    '# HELP alipay_engine_cancels_total a family the runtime must not redefine',
    '# TYPE alipay_engine_cancels_total counter',
    'alipay_engine_cancels_total 99',
    '# EOF',
    '',
  ].join('\n');
  let runtime: { server: Server; url: string };
  let broken: { server: Server; url: string };
  let hanging: { server: Server; url: string };
  let deadUrl: string;
  before(async () => {
    runtime = await listen((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
      res.end(RUNTIME_TEXT);
    });
    broken = await listen((_req, res) => {
      res.writeHead(500);
      res.end('boom');
    });
    hanging = await listen(() => {});
    const dead = await listen(() => {});
    deadUrl = dead.url;
    await close(dead.server);
  });
  after(async () => {
    await Promise.all([close(runtime.server), close(broken.server), close(hanging.server)]);
  });

  it('appends the runtime text after the engine families, as one valid exposition', async () => {
    const m = new EngineMetrics({ runtimeMetricsUrl: runtime.url });
    m.cancel('SUCCEEDED');
    const text = await m.render();
    const engineEnd = text.indexOf('# HELP temporal_request_total');
    assert.ok(engineEnd > 0 && text.indexOf('alipay_engine_cancels_total') < engineEnd);
    const s = samples(text);
    assert.equal(
      s.get(
        'temporal_request_total{operation="PollWorkflowTaskQueue",service_name="temporal-core-sdk"}',
      ),
      7,
    );
    assert.equal(s.get('alipay_engine_cancels_total{outcome="SUCCEEDED"}'), 1);
    assert.equal(s.get('alipay_engine_cancels_total{}'), undefined, 'runtime redefinition dropped');
    assert.doesNotMatch(text, /# EOF/);
    assert.ok(text.endsWith('\n'));
    assertFamiliesUnique(text);
  });

  it('a dead exporter gives a comment line, and the scrape still succeeds', async () => {
    const m = new EngineMetrics({ runtimeMetricsUrl: deadUrl });
    const text = await m.render();
    assert.match(text, /^# temporal runtime metrics unavailable: ECONNREFUSED$/m);
    assert.match(text, /^alipay_engine_process_cpu_seconds_total /m);
    assert.equal(
      samples(text).get('alipay_engine_metrics_collect_errors_total{source="temporal_runtime"}'),
      1,
    );
  });

  it('an HTTP error and an exporter that does not answer in 2 s give their reasons', async () => {
    assert.match(
      await new EngineMetrics({ runtimeMetricsUrl: broken.url }).render(),
      /^# temporal runtime metrics unavailable: HTTP 500$/m,
    );
    const started = performance.now();
    assert.match(
      await new EngineMetrics({ runtimeMetricsUrl: hanging.url }).render(),
      /^# temporal runtime metrics unavailable: no answer in 2000 ms$/m,
    );
    assert.ok(performance.now() - started < 4000);
  });
});

describe('joinExposition', () => {
  it('adds a missing newline between the parts and keeps an empty runtime text out', () => {
    assert.equal(joinExposition('a 1', 'b 2'), 'a 1\nb 2\n');
    assert.equal(joinExposition('a 1\n', ''), 'a 1\n');
    assert.equal(joinExposition('a 1\n', '# EOF\n'), 'a 1\n');
  });
});
