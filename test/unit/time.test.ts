import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  DAY_MS,
  endOfGmt8Day,
  formatGmt8,
  gmt8Date,
  InvalidTimestampError,
  parseCompactGmt8,
  parseGmt8,
  sameGmt8Day,
} from '../../src/time';

// 2024-01-01 00:00:00 GMT+8 is 2023-12-31T16:00:00Z.
const MIDNIGHT_2024_01_01_GMT8 = Date.UTC(2023, 11, 31, 16, 0, 0);

describe('GMT+8 timestamps', () => {
  it('formats an instant as Beijing wall-clock time', () => {
    assert.equal(formatGmt8(Date.UTC(2024, 0, 1, 4, 0, 0)), '2024-01-01 12:00:00');
    assert.equal(formatGmt8(Date.UTC(2023, 11, 31, 16, 0, 0)), '2024-01-01 00:00:00');
    assert.equal(formatGmt8(Date.UTC(2023, 11, 31, 15, 59, 59)), '2023-12-31 23:59:59');
  });

  it('parses both MAPI forms back to the same instant', () => {
    assert.equal(parseGmt8('2024-01-01 12:00:00'), Date.UTC(2024, 0, 1, 4, 0, 0));
    assert.equal(parseCompactGmt8('20240101120508'), Date.UTC(2024, 0, 1, 4, 5, 8));
  });

  it('rejects impossible or malformed timestamps with a typed error', () => {
    for (const bad of [
      '2024-02-30 10:00:00',
      '2024-01-01 24:00:00',
      '2024-1-01 10:00:00',
      '2024-01-01T10:00:00',
      '',
      ' 2024-01-01 10:00:00',
    ]) {
      assert.throws(() => parseGmt8(bad), InvalidTimestampError, bad);
    }
    assert.throws(() => parseCompactGmt8('2024010112050'), InvalidTimestampError);
  });

  it('round-trips every second-aligned instant (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 4_102_444_800 }), (seconds) => {
        const ms = seconds * 1000;
        assert.equal(parseGmt8(formatGmt8(ms)), ms);
      }),
    );
  });
});

describe('the GMT+8 transaction day', () => {
  it('ends at the next 00:00 Beijing time, not at UTC or local midnight', () => {
    const paidAt = parseGmt8('2024-01-01 23:59:30');
    assert.equal(endOfGmt8Day(paidAt), parseGmt8('2024-01-02 00:00:00'));
    assert.equal(endOfGmt8Day(parseGmt8('2024-01-01 00:00:00')), parseGmt8('2024-01-02 00:00:00'));
    // 07:59 UTC on Jan 1 is still Jan 1 in Beijing; 16:00 UTC is already Jan 2.
    assert.equal(gmt8Date(Date.UTC(2024, 0, 1, 15, 59, 59)), '2024-01-01');
    assert.equal(gmt8Date(Date.UTC(2024, 0, 1, 16, 0, 0)), '2024-01-02');
  });

  it('puts 23:59:30 and 00:00:10 on different days', () => {
    assert.equal(
      sameGmt8Day(parseGmt8('2024-01-01 23:59:30'), parseGmt8('2024-01-02 00:00:10')),
      false,
    );
    assert.equal(
      sameGmt8Day(parseGmt8('2024-01-01 00:00:00'), parseGmt8('2024-01-01 23:59:59')),
      true,
    );
  });

  it('is the first instant after t on a GMT+8 midnight (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: -DAY_MS * 365, max: DAY_MS * 365 * 80 }), (offset) => {
        const t = MIDNIGHT_2024_01_01_GMT8 + offset;
        const end = endOfGmt8Day(t);
        assert.ok(end > t && end - t <= DAY_MS);
        assert.equal(formatGmt8(end).slice(11), '00:00:00');
        assert.equal(sameGmt8Day(t, end - 1), true);
      }),
    );
  });
});
