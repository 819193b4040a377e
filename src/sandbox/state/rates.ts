import type { Money } from '../../money';
import { currencyExponent, formatMinor } from '../../money';

/**
 * MADE-UP exchange rates to CNY, 8 decimals as in QUERY/REFUND answers (`exchange_rate`,
 * MAPI.md §9.4). Only there so `trans_amount_cny` / `refund_amount_cny` look plausible; no
 * engine decision may depend on them. Unlisted currencies use 1.
 */
const RATES_TO_CNY: Readonly<Record<string, string>> = Object.freeze({
  CNY: '1.00000000',
  USD: '7.10250000',
  HKD: '0.91000000',
  EUR: '7.80000000',
  GBP: '9.05000000',
  JPY: '0.04800000',
  KRW: '0.00530000',
  SGD: '5.30000000',
  AUD: '4.70000000',
  THB: '0.20000000',
});

/** The rate to CNY and the CNY equivalent of `money`, rounded half-up to the fen. */
export function cnyEquivalent(money: Money): { exchangeRate: string; cny: string } {
  const exchangeRate = RATES_TO_CNY[money.currency] ?? '1.00000000';
  const scaledRate = BigInt(exchangeRate.replace('.', '')); // rate * 1e8
  const exponent = BigInt(currencyExponent(money.currency) ?? 2);
  // cny_fen = minor * rate * 100 / 10^exponent, with rate = scaledRate / 1e8
  const numerator = BigInt(money.minor) * scaledRate * 100n;
  const denominator = 10n ** exponent * 100_000_000n;
  const fen = (numerator * 2n + denominator) / (denominator * 2n);
  return { exchangeRate, cny: formatMinor(Number(fen), 'CNY') };
}

/**
 * Converts `money` into `currency` through the MADE-UP CNY rates; returns the amount and the
 * rate used (8 decimals), e.g. for QUERY's `forex_total_fee` / `trans_forex_rate`.
 */
export function convert(money: Money, currency: string): { minor: number; rate: string } {
  if (money.currency === currency) return { minor: money.minor, rate: '1' };
  const from = BigInt((RATES_TO_CNY[money.currency] ?? '1.00000000').replace('.', ''));
  const to = BigInt((RATES_TO_CNY[currency] ?? '1.00000000').replace('.', ''));
  const expFrom = 10n ** BigInt(currencyExponent(money.currency) ?? 2);
  const expTo = 10n ** BigInt(currencyExponent(currency) ?? 2);
  const numerator = BigInt(money.minor) * from * expTo;
  const denominator = to * expFrom;
  const minor = Number((numerator * 2n + denominator) / (denominator * 2n));
  const scaled = (from * 100_000_000n * 2n + to) / (to * 2n);
  const rate = `${scaled / 100_000_000n}.${String(scaled % 100_000_000n).padStart(8, '0')}`;
  return { minor, rate };
}
