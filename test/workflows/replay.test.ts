import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { Worker } from '@temporalio/worker';
import { historyOf, workflowBundle, type HistoryFixture } from './payment-support';

// Replays recorded PaymentWorkflow, MerchantQrCodeWorkflow and ReconciliationWorkflow histories with today's workflow code: a change that would
// break a running payment (non-determinism) fails here. Re-record after an intended, patched()
// change with: RECORD_HISTORIES=1 node --import tsx --test test/workflows/payment*.test.ts
// test/workflows/qrcode.test.ts test/workflows/qrcode-orders.test.ts
// test/workflows/reconciliation-missing.test.ts test/server/reconciliation.test.ts
// payment-query-not-found-before-patch was recorded with the code from before the
// `query-not-found-retry` patch (no test writes it): it proves old runs still replay. Keep it.
const fixtures = path.join(__dirname, '..', 'fixtures');
const files = readdirSync(fixtures).filter((f) =>
  /^(payment|qrcode|reconciliation)-.*\.history\.json$/.test(f),
);

test('recorded histories of both workflows are present', () => {
  assert.ok(files.filter((f) => f.startsWith('qrcode-')).length >= 2, 'qrcode histories');
  assert.ok(files.filter((f) => f.startsWith('reconciliation-')).length >= 2, 'reconciliation');
  assert.ok(
    files.length >= 4,
    `expected recorded histories in ${fixtures}, found ${files.join(', ')}`,
  );
});

for (const file of files) {
  test(`replays ${file}`, async () => {
    const history = historyOf(
      JSON.parse(readFileSync(path.join(fixtures, file), 'utf8')) as HistoryFixture,
    );
    await Worker.runReplayHistory({ workflowBundle: await workflowBundle() }, history, file);
  });
}
