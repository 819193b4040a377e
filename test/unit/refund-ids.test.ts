import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import fc from 'fast-check';
import { gatewayRefundId, sha256Hex } from '../../src/workflows/refund-ids';

test('sha256Hex agrees with node:crypto on any text, across block boundaries', () => {
  for (const len of [0, 1, 55, 56, 63, 64, 65, 119, 120, 1000])
    assert.equal(
      sha256Hex('x'.repeat(len)),
      createHash('sha256').update('x'.repeat(len)).digest('hex'),
    );
  fc.assert(
    fc.property(fc.string({ unit: 'binary', maxLength: 300 }), (s) => {
      assert.equal(sha256Hex(s), createHash('sha256').update(s, 'utf8').digest('hex'));
    }),
    { numRuns: 300, seed: 1130 },
  );
});

test('gatewayRefundId: deterministic, per payment, within Alipay limits', () => {
  const id = gatewayRefundId('2088101122136241', 'OT-1', 'R-1');
  assert.equal(id, gatewayRefundId('2088101122136241', 'OT-1', 'R-1'));
  assert.notEqual(id, gatewayRefundId('2088101122136241', 'OT-2', 'R-1'));
  // No ambiguity from joining: "A-B" + "C" is not "A" + "B-C".
  assert.notEqual(
    gatewayRefundId('2088101122136241', 'A-B', 'C'),
    gatewayRefundId('2088101122136241', 'A', 'B-C'),
  );
  assert.match(id, /^R[0-9a-f]{40}$/);
  assert.ok(id.length <= 64);
});
