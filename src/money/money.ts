import { EngineError } from '../errors';
import { currencyExponent, type CurrencyCode } from './currencies';

/**
 * An amount of money: integer minor units (cents, yen, fils) and its currency.
 *
 * `minor` is a JS number restricted to safe integers: the largest MAPI amount
 * (100,000,000.000 in a 3-decimal currency = 1e11 minor units) is far below 2^53, and numbers
 * survive Temporal's JSON payloads where bigint would not.
 */
export interface Money {
  readonly minor: number;
  readonly currency: CurrencyCode;
}

/** Largest amount in major units accepted anywhere (MAPI field comments: 0.01 – 100000000.00). */
export const MAX_MAJOR_UNITS = 100_000_000;

/** Why an amount or currency was refused. */
export type InvalidMoneyReason =
  | 'EMPTY'
  | 'SYNTAX'
  | 'TOO_MANY_DECIMALS'
  | 'NEGATIVE'
  | 'TOO_LARGE'
  | 'NOT_AN_INTEGER'
  | 'UNSUPPORTED_CURRENCY';

/** A decimal string, minor-unit value or currency that cannot be money. Never retryable. */
export class InvalidMoneyError extends EngineError {
  readonly code = 'INVALID_AMOUNT';
  readonly retryable = false;
  constructor(
    readonly reason: InvalidMoneyReason,
    readonly input: string,
    readonly currency: string,
  ) {
    super(`invalid amount ${JSON.stringify(input)} ${currency}: ${describe(reason, currency)}`);
  }
}

function describe(reason: InvalidMoneyReason, currency: string): string {
  switch (reason) {
    case 'EMPTY':
      return 'amount is empty';
    case 'SYNTAX':
      return 'expected a plain decimal such as 12.50 (no sign, exponent, spaces or separators)';
    case 'TOO_MANY_DECIMALS':
      return `${currency} allows at most ${currencyExponent(currency)} decimals`;
    case 'NEGATIVE':
      return 'amount must not be negative';
    case 'TOO_LARGE':
      return `amount exceeds ${MAX_MAJOR_UNITS} ${currency}`;
    case 'NOT_AN_INTEGER':
      return 'minor units must be a safe integer';
    case 'UNSUPPORTED_CURRENCY':
      return 'unsupported or malformed ISO 4217 currency code';
  }
}

/** The exponent of `currency`, or an `UNSUPPORTED_CURRENCY` error. */
export function requireCurrency(currency: string, input = ''): number {
  const exponent = currencyExponent(currency);
  if (exponent === undefined) throw new InvalidMoneyError('UNSUPPORTED_CURRENCY', input, currency);
  return exponent;
}

function maxMinor(exponent: number): number {
  return MAX_MAJOR_UNITS * 10 ** exponent;
}

// Plain decimal: digits without superfluous leading zeros, optional fraction. No sign, no
// exponent, no grouping, no surrounding space: exactly what MAPI puts in `trans_amount`.
const DECIMAL = /^(0|[1-9][0-9]*)(?:\.([0-9]+))?$/;

/**
 * Parses a decimal string in major units (`"12.50"`) into integer minor units of `currency`.
 * Accepts up to the currency's exponent in decimals (`"12.5"` USD = 1250); rejects exponents,
 * signs, spaces, trailing currency codes, too many decimals and amounts above the limit.
 * Zero is accepted here; callers that need a positive amount check `minor > 0`.
 */
export function parseMoney(input: string, currency: string): Money {
  const exponent = requireCurrency(currency, input);
  if (input === '') throw new InvalidMoneyError('EMPTY', input, currency);
  if (input.startsWith('-')) throw new InvalidMoneyError('NEGATIVE', input, currency);
  const match = DECIMAL.exec(input);
  if (!match) throw new InvalidMoneyError('SYNTAX', input, currency);
  const whole = match[1] as string;
  const fraction = match[2] ?? '';
  if (fraction.length > exponent) throw new InvalidMoneyError('TOO_MANY_DECIMALS', input, currency);
  // Bound the length before arithmetic so huge inputs cannot lose precision.
  if (whole.length > String(MAX_MAJOR_UNITS).length) {
    throw new InvalidMoneyError('TOO_LARGE', input, currency);
  }
  const minor = Number(whole + fraction.padEnd(exponent, '0'));
  if (minor > maxMinor(exponent)) throw new InvalidMoneyError('TOO_LARGE', input, currency);
  return { minor, currency };
}

/** Builds money from integer minor units, checking the integer and the currency. */
export function moneyOfMinor(minor: number, currency: string): Money {
  const exponent = requireCurrency(currency, String(minor));
  if (!Number.isSafeInteger(minor))
    throw new InvalidMoneyError('NOT_AN_INTEGER', String(minor), currency);
  if (minor < 0) throw new InvalidMoneyError('NEGATIVE', String(minor), currency);
  if (minor > maxMinor(exponent)) throw new InvalidMoneyError('TOO_LARGE', String(minor), currency);
  return { minor, currency };
}

/**
 * Formats minor units as the decimal string MAPI expects: exactly the currency's exponent in
 * decimals (`1250` USD -> `"12.50"`, `1250` JPY -> `"1250"`, `1250` KWD -> `"1.250"`).
 */
export function formatMinor(minor: number, currency: string): string {
  moneyOfMinor(minor, currency);
  const exponent = currencyExponent(currency) as number;
  if (exponent === 0) return String(minor);
  const digits = String(minor).padStart(exponent + 1, '0');
  return `${digits.slice(0, -exponent)}.${digits.slice(-exponent)}`;
}

/** `formatMinor` for a `Money` value. */
export function formatMoney(money: Money): string {
  return formatMinor(money.minor, money.currency);
}
