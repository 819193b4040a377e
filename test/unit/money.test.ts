import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  currencyExponent,
  formatMinor,
  InvalidMoneyError,
  moneyOfMinor,
  parseMoney,
  supportedCurrencies,
} from '../../src/money';

describe('money in minor units', () => {
  it('respects ISO 4217 exponents', () => {
    assert.equal(currencyExponent('USD'), 2);
    assert.equal(currencyExponent('JPY'), 0);
    assert.equal(currencyExponent('KRW'), 0);
    assert.equal(currencyExponent('KWD'), 3);
    assert.equal(currencyExponent('usd'), undefined);
    assert.equal(currencyExponent('XXX'), undefined);
  });

  it('parses decimal strings strictly', () => {
    assert.deepEqual(parseMoney('12.50', 'USD'), { minor: 1250, currency: 'USD' });
    assert.deepEqual(parseMoney('12.5', 'USD'), { minor: 1250, currency: 'USD' });
    assert.deepEqual(parseMoney('0.01', 'USD'), { minor: 1, currency: 'USD' });
    assert.deepEqual(parseMoney('1250', 'JPY'), { minor: 1250, currency: 'JPY' });
    assert.deepEqual(parseMoney('1.250', 'KWD'), { minor: 1250, currency: 'KWD' });
    assert.deepEqual(parseMoney('100000000.00', 'USD'), { minor: 10_000_000_000, currency: 'USD' });
  });

  it('refuses everything else with a typed reason', () => {
    const cases: Array<[string, string, string]> = [
      ['', 'USD', 'EMPTY'],
      ['1e3', 'USD', 'SYNTAX'],
      ['12.345 USD', 'USD', 'SYNTAX'],
      ['12.345', 'USD', 'TOO_MANY_DECIMALS'],
      ['12.5', 'JPY', 'TOO_MANY_DECIMALS'],
      ['-1.00', 'USD', 'NEGATIVE'],
      ['+1.00', 'USD', 'SYNTAX'],
      ['1,000.00', 'USD', 'SYNTAX'],
      [' 1.00', 'USD', 'SYNTAX'],
      ['01.00', 'USD', 'SYNTAX'],
      ['.5', 'USD', 'SYNTAX'],
      ['5.', 'USD', 'SYNTAX'],
      ['Infinity', 'USD', 'SYNTAX'],
      ['0x10', 'USD', 'SYNTAX'],
      ['100000000.01', 'USD', 'TOO_LARGE'],
      ['99999999999999999999999', 'USD', 'TOO_LARGE'],
      ['1.00', 'XXX', 'UNSUPPORTED_CURRENCY'],
    ];
    for (const [input, currency, reason] of cases) {
      assert.throws(
        () => parseMoney(input, currency),
        (err: unknown) =>
          err instanceof InvalidMoneyError &&
          err.reason === reason &&
          err.code === 'INVALID_AMOUNT',
        `${input} ${currency} should be ${reason}`,
      );
    }
    assert.throws(() => moneyOfMinor(1.5, 'USD'), InvalidMoneyError);
    assert.throws(() => moneyOfMinor(-1, 'USD'), InvalidMoneyError);
  });

  it('formats with exactly the currency exponent', () => {
    assert.equal(formatMinor(1250, 'USD'), '12.50');
    assert.equal(formatMinor(5, 'USD'), '0.05');
    assert.equal(formatMinor(0, 'USD'), '0.00');
    assert.equal(formatMinor(1250, 'JPY'), '1250');
    assert.equal(formatMinor(5, 'KWD'), '0.005');
  });

  it('round-trips minor -> string -> minor for every supported currency (property)', () => {
    const currencies = supportedCurrencies();
    fc.assert(
      fc.property(fc.constantFrom(...currencies), fc.nat(), (currency, n) => {
        const max = 100_000_000 * 10 ** (currencyExponent(currency) as number);
        const minor = n % (max + 1);
        assert.equal(parseMoney(formatMinor(minor, currency), currency).minor, minor);
      }),
    );
  });
});
