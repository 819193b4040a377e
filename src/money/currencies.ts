/**
 * ISO 4217 minor-unit exponents for the currencies the engine accepts.
 *
 * The list covers every currency Alipay's overseas acquiring has been seen to settle or price in,
 * plus the ISO exceptions (0 and 3 decimals) so that a new currency cannot silently get the
 * wrong exponent: anything not listed is rejected rather than assumed to have 2 decimals.
 */
const EXPONENTS: Readonly<Record<string, number>> = Object.freeze({
  // zero-decimal currencies
  JPY: 0,
  KRW: 0,
  VND: 0,
  CLP: 0,
  ISK: 0,
  PYG: 0,
  UGX: 0,
  XAF: 0,
  XOF: 0,
  XPF: 0,
  // three-decimal currencies
  BHD: 3,
  JOD: 3,
  KWD: 3,
  OMR: 3,
  TND: 3,
  // two-decimal currencies
  AED: 2,
  AUD: 2,
  BRL: 2,
  CAD: 2,
  CHF: 2,
  CNY: 2,
  CZK: 2,
  DKK: 2,
  EUR: 2,
  GBP: 2,
  HKD: 2,
  HUF: 2,
  IDR: 2,
  ILS: 2,
  INR: 2,
  KZT: 2,
  LKR: 2,
  MOP: 2,
  MXN: 2,
  MYR: 2,
  NOK: 2,
  NPR: 2,
  NZD: 2,
  PHP: 2,
  PKR: 2,
  PLN: 2,
  QAR: 2,
  RUB: 2,
  SAR: 2,
  SEK: 2,
  SGD: 2,
  THB: 2,
  TRY: 2,
  TWD: 2,
  USD: 2,
  ZAR: 2,
});

/** An upper-case ISO 4217 alphabetic code the engine knows the exponent of. */
export type CurrencyCode = string & { readonly __currency?: never };

/** True when `code` is a supported, upper-case ISO 4217 code. */
export function isSupportedCurrency(code: string): code is CurrencyCode {
  return Object.prototype.hasOwnProperty.call(EXPONENTS, code);
}

/** Number of decimals of the currency's minor unit, or undefined when unsupported. */
export function currencyExponent(code: string): number | undefined {
  return isSupportedCurrency(code) ? EXPONENTS[code] : undefined;
}

/** Every supported currency code, sorted. */
export function supportedCurrencies(): readonly string[] {
  return Object.keys(EXPONENTS).sort();
}
