import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { Client, Connection } from '@temporalio/client';
import type { FastifyInstance } from 'fastify';
import type { Browser } from 'playwright-core';
import { AlipayGateway } from '../../src/alipay';
import { PaymentEngineClient } from '../../src/client';
import { loadConfig } from '../../src/config';
import { keysFromEnv } from '../../src/server/api-keys';
import { buildHttpService } from '../../src/server/app';
import { QrRenderer } from '../../src/server/qr-image';
import {
  BROWSER_OUTPUT as OUTPUT,
  launchChromium,
  requireChromium,
  skipWithoutChromium as skip,
} from '../helpers/chromium';

// A merchant's developer reads the API reference page in headless Chromium (Debian's package,
// driven by playwright-core). The page and its assets come from the engine itself (the npm
// package's files): every request stays on the engine's origin, so it works offline. The page
// documents nothing but the routes: no Temporal is needed (its connection is never opened).
let app: FastifyInstance;
let qr: QrRenderer;
let gateway: AlipayGateway;
let connection: Connection;
let browser: Browser | undefined;
let url: string;

before(async () => {
  if (skip) return;
  requireChromium();
  const config = loadConfig({ TEMPORAL_METRICS_ADDRESS: 'off' });
  connection = Connection.lazy({ address: '127.0.0.1:1' });
  qr = new QrRenderer({ threads: 1 });
  gateway = new AlipayGateway(config.alipay.gateway);
  app = buildHttpService({
    engine: new PaymentEngineClient({
      client: new Client({ connection }),
      partnerId: config.alipay.gateway.partner,
      taskQueue: 'unused',
    }),
    gateway,
    taskQueue: 'unused',
    payments: config.payments,
    apiKeys: keysFromEnv(config.http.merchantApiKeys),
    notifyMaxBytes: 16_384,
    apiMaxBytes: 65_536,
    rateLimitPerMinute: 600,
    qr,
    qrMaxSize: 2048,
    logLevel: 'silent',
  });
  url = await app.listen({ host: '127.0.0.1', port: 0 });
  browser = await launchChromium();
});

after(async () => {
  await browser?.close().catch(() => undefined);
  await app?.close();
  await qr?.close();
  await gateway?.close();
  await connection?.close().catch(() => undefined);
});

test(
  'the API reference page lists the merchant API from its OpenAPI document, offline',
  { skip, timeout: 120_000 },
  async () => {
    assert.ok(browser);
    const context = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
    const page = await context.newPage();
    page.setDefaultTimeout(30_000);
    const origins = new Set<string>();
    page.on('request', (req) => void origins.add(new URL(req.url()).origin));
    try {
      await page.goto(`${url}/v1/docs/`, { waitUntil: 'domcontentloaded' });
      await page.getByText('alipay-qr-engine merchant API').first().waitFor();
      // One operation per route, grouped by tag; open the refund to read its parameters.
      const refund = page.locator('.opblock-post', {
        hasText: '/v1/payments/{outTradeNo}/refunds',
      });
      await refund.first().waitFor();
      assert.ok((await page.locator('.opblock').count()) >= 14, 'every merchant route is listed');
      await refund.first().locator('.opblock-summary').click();
      await refund.first().locator('.parameter__name', { hasText: 'idempotency-key' }).waitFor();
      await page.getByText('Refund part or all of the remaining balance').first().waitFor();
      assert.deepEqual([...origins], [new URL(url).origin], 'every asset is served by the engine');

      mkdirSync(OUTPUT, { recursive: true });
      const file = path.join(OUTPUT, 'api-reference.png');
      rmSync(file, { force: true });
      await page.screenshot({ path: file, fullPage: false });
      const png = readFileSync(file);
      assert.equal(png.subarray(1, 4).toString('ascii'), 'PNG');
      assert.ok(png.length > 20_000, `the screenshot has content (${png.length} bytes)`);
    } catch (err) {
      mkdirSync(OUTPUT, { recursive: true });
      await page
        .screenshot({ path: path.join(OUTPUT, 'api-reference-failure.png'), fullPage: true })
        .catch(() => undefined);
      throw err;
    } finally {
      await context.close();
    }
  },
);
