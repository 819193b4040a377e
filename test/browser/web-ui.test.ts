import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import type { Browser, Page } from 'playwright-core';
import { startDevServer, type DevServer } from '../../scripts/dev-server';
import { paymentWorkflowId } from '../../src/workflows/payment-types';
import { codeBody, eventually, startStack, type Stack } from '../server/support';
import { reconciliationScheduleId } from '../../src/workflows/reconciliation-types';
import {
  BROWSER_OUTPUT as OUTPUT,
  launchChromium,
  requireChromium,
  skipWithoutChromium as skip,
} from '../helpers/chromium';

// An operator's path through the Temporal Web UI, in headless Chromium (Debian's `chromium`
// package, driven by playwright-core; never Playwright's browser download): filter the workflow
// list by the custom search attribute PaymentStatus, open the payment, read its summary.
// The payments arrive as in production: a merchant creates the store's code through the API,
// customers pay it at the Alipay sandbox, whose notifications reach the HTTP service's receiver,
// and the real worker confirms and refunds them. Screenshots land in test-output/browser/.

const UI_TIMEOUT = 60_000; // the Web UI is a SPA: generous waits for loads and re-renders
const TASK_QUEUE = 'browser-web-ui';
const STORE = 'S-UI';

interface Payment {
  outTradeNo: string;
  /** Alipay's trade number (`trade_no`), shown in the workflow's details. */
  tradeNo: string;
  workflowId: string;
  /** The static summary the notification receiver gives the workflow. */
  summary: string;
}

let server: DevServer | undefined;
let dir: string | undefined;
let connection: Connection | undefined;
let nativeConnection: NativeConnection | undefined;
let client: Client;
let stack: Stack | undefined;
let browser: Browser | undefined;
let refunded: Payment;
let paid: Payment;

// One `before` for the whole setup (several top-level hooks misbehave in Node 20's node:test).
before(
  async () => {
    if (skip) return;
    requireChromium();
    dir = mkdtempSync(path.join(os.tmpdir(), 'alipay-qr-engine-web-ui-'));
    server = await startDevServer({
      port: await freePort(),
      uiPort: await freePort(),
      dbFile: path.join(dir, 'temporal.sqlite'),
      stdio: 'ignore',
    });
    connection = await Connection.connect({ address: server.address });
    client = new Client({ connection, namespace: server.namespace });
    nativeConnection = await NativeConnection.connect({ address: server.address });
    stack = await startStack({
      temporalAddress: server.address,
      nativeConnection,
      taskQueue: TASK_QUEUE,
    });

    // The merchant prints the store's code; two customers pay it; Alipay notifies the receiver.
    const created = await stack.api('POST', '/v1/codes', codeBody(STORE));
    assert.equal(created.status, 201, JSON.stringify(created.json));
    const qrcode: string = created.json.qrcode;
    refunded = await customerPays(stack, qrcode);
    paid = await customerPays(stack, qrcode);
    await paymentReaches(stack, refunded, 'PAID');
    await paymentReaches(stack, paid, 'PAID');

    // The merchant refunds part of one payment through the API.
    const refund = await stack.api(
      'POST',
      `/v1/payments/${refunded.outTradeNo}/refunds`,
      { amount: '2.50' },
      { 'idempotency-key': 'R-UI-1' },
    );
    assert.equal(refund.status, 201, JSON.stringify(refund.json));
    await paymentReaches(stack, refunded, 'PARTIALLY_REFUNDED');
    // Visibility is eventually consistent: let the index catch up before the UI lists it.
    await waitForVisibility(`PaymentStatus = "PARTIALLY_REFUNDED"`, [refunded.workflowId]);
    await waitForVisibility(`PaymentStatus = "PAID"`, [paid.workflowId]);

    mkdirSync(OUTPUT, { recursive: true });
    rmSync(path.join(OUTPUT, 'web-ui-failure.png'), { force: true });
    browser = await launchChromium(['--disable-background-networking']);
  },
  { timeout: 180_000 },
);

after(async () => {
  await browser?.close().catch(() => undefined);
  await stack?.close();
  await nativeConnection?.close();
  await connection?.close();
  await server?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test(
  'an operator filters payments by PaymentStatus in the Web UI and opens one to read its summary',
  { skip, timeout: 180_000 },
  async () => {
    assert.ok(browser && server);
    const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
    const page = await context.newPage();
    page.setDefaultTimeout(UI_TIMEOUT);
    page.setDefaultNavigationTimeout(UI_TIMEOUT);
    try {
      await page.goto(`${server.uiUrl}/namespaces/default/workflows`, {
        waitUntil: 'domcontentloaded',
      });
      // Both payments are listed before filtering: the SPA has loaded the list.
      await page.getByRole('link', { name: paid.workflowId, exact: true }).waitFor();

      // Type the visibility query into the raw-query box ("</>" toggle), as an operator does.
      const queryInput = page.getByTestId('workflow-manual-search-input');
      if (!(await queryInput.isVisible())) await page.getByTestId('toggle-manual-query').click();
      await queryInput.click();
      await queryInput.pressSequentially('PaymentStatus = "PARTIALLY_REFUNDED"');
      await page.getByTestId('workflow-manual-search-button').click();

      // The PAID payment leaves the list; the partially refunded one stays.
      await page.getByRole('link', { name: paid.workflowId, exact: true }).waitFor({
        state: 'detached',
      });
      const refundedLink = page.getByRole('link', { name: refunded.workflowId, exact: true });
      await refundedLink.waitFor();
      assert.equal(await page.getByRole('link', { name: paid.workflowId }).count(), 0);
      assert.equal(
        new URL(page.url()).searchParams.get('query'),
        'PaymentStatus = "PARTIALLY_REFUNDED"',
      );
      await screenshot(page, 'web-ui-filtered.png');

      // Open the payment: its summary and current details are on the User Metadata tab.
      await refundedLink.click();
      await page.waitForURL((url) =>
        url.pathname.includes(encodeURIComponent(refunded.workflowId)),
      );
      await page.getByTestId('search-attributes-tab').click();
      await page.getByText('"PaymentStatus": "PARTIALLY_REFUNDED"').first().waitFor();
      await page.getByTestId('user-metadata-tab').click();
      // Summary and details are rendered as Markdown inside iframes.
      await page
        .frameLocator('#user-metadata-summary')
        .getByText(refunded.summary, { exact: true })
        .waitFor();
      // The receiver's static details: one `**Label:** value` line each, the store among them.
      const details = page.frameLocator('#user-metadata-details');
      await details.getByText('Store:', { exact: true }).waitFor();
      const detailsText = await details.locator('body').innerText();
      assert.match(detailsText, new RegExp(`^Store:\\s*${STORE}$`, 'm'));
      assert.match(detailsText, new RegExp(`^Alipay trade:\\s*${refunded.tradeNo}$`, 'm'));
      await page
        .frameLocator('#user-metadata-current-details')
        .getByText('PARTIALLY_REFUNDED', { exact: true })
        .waitFor();
      await screenshot(page, 'web-ui-payment.png');
    } catch (err) {
      await page
        .screenshot({ path: path.join(OUTPUT, 'web-ui-failure.png'), fullPage: true })
        .catch(() => undefined);
      throw err;
    } finally {
      await context.close();
    }
  },
);

test(
  "the worker's daily reconciliation Schedule is on the Web UI's Schedules page",
  { skip, timeout: 120_000 },
  async () => {
    assert.ok(browser && server && stack);
    const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
    const page = await context.newPage();
    page.setDefaultTimeout(UI_TIMEOUT);
    try {
      await page.goto(`${server.uiUrl}/namespaces/default/schedules`, {
        waitUntil: 'domcontentloaded',
      });
      await page
        .getByText(reconciliationScheduleId(stack.config.alipay.gateway.partner), { exact: true })
        .first()
        .waitFor();
      await page.getByText('DailyReconciliationWorkflow').first().waitFor();
      await screenshot(page, 'web-ui-schedules.png');
    } catch (err) {
      await page
        .screenshot({ path: path.join(OUTPUT, 'web-ui-failure.png'), fullPage: true })
        .catch(() => undefined);
      throw err;
    } finally {
      await context.close();
    }
  },
);

/**
 * A customer pays the store's code 10.00 at the sandbox; resolves once Alipay's notification
 * was acknowledged by the receiver (which signal-with-starts the payment's workflow).
 */
async function customerPays(s: Stack, qrcode: string): Promise<Payment> {
  const { trade, notifyId } = s.sandbox.pay({ qrcode, amount: '10.00' });
  assert.ok(notifyId, 'the code has a notify_url: Alipay notifies');
  const record = await s.sandbox.notifications.settled(notifyId, 20_000);
  assert.equal(record.state, 'delivered');
  return {
    outTradeNo: trade.outTradeNo,
    tradeNo: trade.tradeNo,
    workflowId: paymentWorkflowId(s.config.alipay.gateway.partner, trade.outTradeNo),
    // Built here, not imported: what the receiver's summary must read.
    summary: `Alipay payment ${trade.outTradeNo} · store ${STORE} · 10.00 USD`,
  };
}

async function paymentReaches(s: Stack, payment: Payment, status: string): Promise<void> {
  await eventually(async () => {
    const state = await s.engine.getPayment(payment.outTradeNo);
    return state.status === status ? state : undefined;
  }, `payment ${payment.outTradeNo} ${status}`);
}

async function waitForVisibility(query: string, expected: string[]): Promise<void> {
  const deadline = Date.now() + 30_000;
  let found: string[] = [];
  while (Date.now() < deadline) {
    found = [];
    for await (const wf of client.workflow.list({ query })) found.push(wf.workflowId);
    if (found.sort().join() === [...expected].sort().join()) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  assert.deepEqual(found, expected, `visibility for ${query}`);
}

async function screenshot(page: Page, name: string): Promise<void> {
  const file = path.join(OUTPUT, name);
  rmSync(file, { force: true });
  await page.screenshot({ path: file, fullPage: true });
  assertPng(file);
}

/** A real, non-trivial PNG: signature, IHDR with a plausible size, more than a blank image. */
function assertPng(file: string): void {
  assert.ok(existsSync(file), `${file} was written`);
  const bytes = readFileSync(file);
  assert.ok(
    bytes.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])),
    `${file} is a PNG`,
  );
  assert.equal(bytes.subarray(12, 16).toString('ascii'), 'IHDR');
  assert.ok(bytes.readUInt32BE(16) >= 800 && bytes.readUInt32BE(20) >= 600, `${file} dimensions`);
  assert.ok(statSync(file).size > 20_000, `${file} has content (${statSync(file).size} bytes)`);
}

/** A free loopback port: listen on port 0, note the port, close. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as net.AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}
