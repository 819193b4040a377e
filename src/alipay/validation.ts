import { currencyExponent, InvalidMoneyError, moneyOfMinor, type Money } from '../money';
import { isRepresentable, type Charset } from './charset';
import { AlipayRequestValidationError, type AlipayIds } from './errors';

/**
 * Input checks run before anything is signed or sent. Each failure is an
 * {@link AlipayRequestValidationError} naming the domain field. Lengths are UTF-16 code units,
 * like the Java `String(n)` of Alipay's tables.
 */
export class RequestValidator {
  /** `charset`: the request's; with GBK, text GBK cannot carry is refused (Java would send `?`). */
  constructor(
    readonly service: string,
    readonly ids: AlipayIds,
    readonly charset: Charset = 'UTF-8',
  ) {}

  fail(field: string, reason: string): never {
    throw new AlipayRequestValidationError(field, reason, { service: this.service, ids: this.ids });
  }

  /**
   * A text value: no control characters and no `"` (refused by MAPI's HK pages, and it would
   * have to be escaped inside `biz_data` JSON), at most `max` long, optionally matching `pattern`.
   */
  text(field: string, value: unknown, rule: TextRule): string | undefined {
    if (value === undefined || value === null) {
      if (rule.required) this.fail(field, 'is required');
      return undefined;
    }
    if (typeof value !== 'string') return this.fail(field, 'must be a string');
    if (value === '') {
      if (rule.required) this.fail(field, 'must not be empty');
      return undefined;
    }
    if (value !== value.trim()) this.fail(field, 'has leading or trailing whitespace');
    if (value.length > rule.max) this.fail(field, `is longer than ${rule.max} characters`);
    if (rule.min !== undefined && value.length < rule.min)
      this.fail(field, `is shorter than ${rule.min} characters`);
    // eslint-disable-next-line no-control-regex
    if (/[\u0000-\u001f\u007f"]/.test(value))
      this.fail(field, 'contains a control character or a double quote');
    if (/[\ud800-\udfff]/u.test(value)) this.fail(field, 'contains a lone surrogate');
    if (rule.pattern && !rule.pattern.test(value))
      this.fail(field, rule.patternText ?? 'has an invalid format');
    if (this.charset !== 'UTF-8' && !isRepresentable(value, this.charset))
      this.fail(field, `contains characters ${this.charset} cannot represent`);
    return value;
  }

  /** Like {@link text} with `required: true`. */
  required(field: string, value: unknown, rule: Omit<TextRule, 'required'>): string {
    return this.text(field, value, { ...rule, required: true }) as string;
  }

  /** A supported ISO 4217 code, upper case. */
  currency(field: string, value: unknown): string {
    const code = this.required(field, value, {
      max: 3,
      pattern: /^[A-Z]{3}$/,
      patternText: 'must be an upper-case ISO 4217 code',
    });
    if (currencyExponent(code) === undefined) this.fail(field, `unsupported currency ${code}`);
    return code;
  }

  /** A positive amount valid for its currency (integer minor units, within MAPI's range). */
  positiveMoney(field: string, value: unknown): Money {
    if (typeof value !== 'object' || value === null) return this.fail(field, 'is required');
    const { minor, currency } = value as Partial<Money>;
    const code = this.currency(`${field}.currency`, currency);
    let money: Money;
    try {
      money = moneyOfMinor(minor as number, code);
    } catch (err) {
      if (err instanceof InvalidMoneyError) this.fail(field, err.message);
      throw err;
    }
    if (money.minor <= 0) this.fail(field, 'must be greater than zero');
    return money;
  }

  /** A decimal string in [min, max], e.g. a channel-fee rate. */
  decimalInRange(
    field: string,
    value: unknown,
    min: number,
    max: number,
    decimals: number,
  ): string {
    const text = this.required(field, value, {
      max: 16,
      pattern: /^(0|[1-9][0-9]*)(\.[0-9]+)?$/,
      patternText: 'must be a plain decimal',
    });
    const fraction = text.split('.')[1] ?? '';
    if (fraction.length > decimals) this.fail(field, `allows at most ${decimals} decimals`);
    // Exact for the short decimals allowed here: both sides parse to the same double.
    const asNumber = Number(text);
    if (!(asNumber >= min && asNumber <= max))
      this.fail(field, `must be between ${min} and ${max}`);
    return text;
  }
}

/** Constraints of one text field. */
export interface TextRule {
  readonly max: number;
  readonly min?: number;
  readonly required?: boolean;
  readonly pattern?: RegExp;
  readonly patternText?: string;
}

/** Alipay partner ID: 16 digits starting 2088 (HK also 2160). */
export const PARTNER_ID = /^(2088|2160)[0-9]{12}$/;

/** IDs we generate or receive: printable ASCII without spaces. */
export const ID_TEXT = /^[\x21-\x7e]+$/;

/** Letters, digits, underscore and dash (sub-merchant and store IDs). */
export const CODE_TEXT = /^[A-Za-z0-9_-]+$/;

/** An absolute http(s) URL. */
export function isHttpUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return url.protocol === 'https:' || url.protocol === 'http:';
  } catch {
    return false;
  }
}
