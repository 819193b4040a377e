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
// The *-before-patch fixtures were recorded with the code from before a patch (no test writes
// them; see BEFORE_PATCH): each takes the branch its patch replaced, so removing that patched()
// guard (the new branch always running) fails its replay here. Keep them.
const fixtures = path.join(__dirname, '..', 'fixtures');
const files = readdirSync(fixtures).filter((f) =>
  /^(payment|qrcode|reconciliation)-.*\.history\.json$/.test(f),
);

/**
 * Per patch, the fixture recorded before it (commit) that fails replay once its guard is gone.
 * `derived-partner-refund-id` has none: it changes only an activity's input, which replay does not
 * compare.
 */
const BEFORE_PATCH: Record<string, string> = {
  'reject-invalid-start-input': 'payment-invalid-start-before-patch', // 8d99ba6
  'merchant-cancel-unknown-needs-operator': 'payment-merchant-cancel-unknown-before-patch', // 12a2d69
  'query-not-found-retry': 'payment-query-not-found-before-patch',
  'unknown-trade-rejected': 'payment-unknown-trade-before-patch', // 9e1c502
  'notify-verify-false-kept': 'payment-notify-verify-false-before-patch', // 9e1c502
  'admission-in-workflow': 'payment-store-admission-before-patch', // 9e1c502
  'durable-merchant-hooks': 'payment-merchant-cancel', // before afe9496
  'refund-answers-before-merchant-hook': 'payment-refunds',
  'lean-confirmation': 'payment-admission-held-reversed', // before 3480325
};

test('each patch keeps a history from before it; continued and operator runs are recorded', () => {
  const names = [
    ...Object.values(BEFORE_PATCH),
    'payment-continued-first-run',
    'payment-continued-last-run',
    'payment-reversal-needs-operator',
    'payment-merchant-cancel-needs-operator',
    'payment-operator-resolved-reversed',
    'payment-operator-resolved-not-reversed',
  ];
  const missing = names.filter((n) => !files.includes(`${n}.history.json`));
  assert.deepEqual(missing, [], `missing fixtures in ${fixtures}`);
});

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
