import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  InvalidMoneyError,
  MAX_MAJOR_UNITS,
  currencyExponent,
  formatMinor,
  parseMoney,
  supportedCurrencies,
} from '../../../src/money';
import { parseAlipayAmount } from '../../../src/alipay/transformers';

const currency = fc.constantFrom(...supportedCurrencies());

/** Any valid minor-unit amount of `code`, up to MAPI's maximum. */
function minorOf(code: string): fc.Arbitrary<number> {
  return fc.integer({ min: 0, max: MAX_MAJOR_UNITS * 10 ** (currencyExponent(code) as number) });
}

describe('money round trips (property-based, every supported currency)', () => {
  it('parse(format(x)) == x', () => {
    fc.assert(
      fc.property(
        currency.chain((code) => fc.tuple(fc.constant(code), minorOf(code))),
        ([code, minor]) => {
          const text = formatMinor(minor, code);
          assert.deepEqual(parseMoney(text, code), { minor, currency: code });
          assert.deepEqual(parseAlipayAmount(text, code), { minor, currency: code });
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('format writes exactly the currency exponent in decimals', () => {
    fc.assert(
      fc.property(
        currency.chain((code) => fc.tuple(fc.constant(code), minorOf(code))),
        ([code, minor]) => {
          const text = formatMinor(minor, code);
          const exponent = currencyExponent(code) as number;
          assert.equal(text.includes('.') ? text.split('.')[1]?.length : 0, exponent);
        },
      ),
    );
  });

  it('Alipay amounts: superfluous zero decimals tolerated, real extra decimals refused', () => {
    assert.deepEqual(parseAlipayAmount('100.00', 'JPY'), { minor: 100, currency: 'JPY' });
    assert.deepEqual(parseAlipayAmount('8.800', 'USD'), { minor: 880, currency: 'USD' });
    assert.deepEqual(parseAlipayAmount('1.5', 'KWD'), { minor: 1500, currency: 'KWD' });
    assert.throws(() => parseAlipayAmount('100.50', 'JPY'), InvalidMoneyError);
    assert.throws(() => parseAlipayAmount('8.805', 'USD'), InvalidMoneyError);
    assert.throws(() => parseAlipayAmount('1e3', 'USD'), InvalidMoneyError);
    assert.throws(() => parseAlipayAmount('-1.00', 'USD'), InvalidMoneyError);
    assert.throws(() => parseAlipayAmount('1.00', 'usd'), InvalidMoneyError);
  });

  it('never accepts a decimal with more significant decimals than the currency allows', () => {
    fc.assert(
      fc.property(
        currency,
        fc.nat({ max: 99999 }),
        fc.integer({ min: 1, max: 9 }),
        (code, whole, digit) => {
          const exponent = currencyExponent(code) as number;
          const text = `${whole}.${'0'.repeat(exponent)}${digit}`;
          assert.throws(() => parseAlipayAmount(text, code), InvalidMoneyError);
        },
      ),
    );
  });
});
