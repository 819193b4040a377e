import { createHash, timingSafeEqual } from 'node:crypto';
import type { temporal } from '@temporalio/proto';
import { defaultPayloadConverter } from '@temporalio/common';
import { InvalidRequestError } from './client-errors';
import { formatMinor } from './money';
import type { PaymentStatus } from './workflows/payment-types';

/**
 * Payments as the visibility store sees them: one row per PaymentWorkflow, read from its search
 * attributes (no worker involved, so listing stays cheap and works while workers are down).
 */
export interface PaymentSummary {
  workflowId: string;
  outTradeNo: string;
  /** The payment's status as last published by its workflow. */
  status: PaymentStatus | 'UNKNOWN';
  tradeNo?: string;
  storeId?: string;
  currency?: string;
  paidMinor?: number;
  refundedMinor?: number;
  /** Decimal strings in the payment's currency, when it is known. */
  paid?: string;
  refunded?: string;
  /** ISO instants. */
  startedAt?: string;
  closedAt?: string;
  lastRefundAt?: string;
  /** False once the workflow has finished (refund window over, reversed…). */
  open: boolean;
}

export interface PaymentPage {
  payments: PaymentSummary[];
  /** Pass back as `pageToken` for the next page; absent on the last page. */
  nextPageToken?: string;
}

type RawExecution = temporal.api.workflow.v1.IWorkflowExecutionInfo;

/** Decodes one raw visibility row (search attributes are JSON payloads). */
export function summaryOfExecution(raw: RawExecution): PaymentSummary {
  const fields = raw.searchAttributes?.indexedFields ?? {};
  const read = <T>(name: string): T | undefined => {
    const payload = fields[name];
    if (!payload) return undefined;
    try {
      const value = defaultPayloadConverter.fromPayload<T | T[]>(payload);
      return Array.isArray(value) ? value[0] : value;
    } catch {
      return undefined;
    }
  };
  const currency = read<string>('PaymentCurrency');
  const paidMinor = read<number>('PaidMinor');
  const refundedMinor = read<number>('RefundedMinor');
  const workflowId = raw.execution?.workflowId ?? '';
  const summary: PaymentSummary = {
    workflowId,
    outTradeNo: read<string>('AlipayOutTradeNo') ?? workflowId.split('/').slice(2).join('/'),
    status: (read<string>('PaymentStatus') as PaymentStatus | undefined) ?? 'UNKNOWN',
    open: !raw.closeTime,
  };
  const optional = {
    tradeNo: read<string>('AlipayTradeNo'),
    storeId: read<string>('AlipayStoreId'),
    currency,
    paidMinor,
    refundedMinor,
    paid: currency && paidMinor !== undefined ? formatMinor(paidMinor, currency) : undefined,
    refunded:
      currency && refundedMinor !== undefined ? formatMinor(refundedMinor, currency) : undefined,
    startedAt: isoOf(raw.startTime),
    closedAt: isoOf(raw.closeTime),
    lastRefundAt: read<string>('LastRefundAt'),
  };
  for (const [key, value] of Object.entries(optional)) {
    if (value !== undefined) (summary as unknown as Record<string, unknown>)[key] = value;
  }
  return summary;
}

function isoOf(ts: RawExecution['startTime']): string | undefined {
  if (!ts || ts.seconds === undefined || ts.seconds === null) return undefined;
  const ms = Number(ts.seconds) * 1000 + Math.floor((ts.nanos ?? 0) / 1e6);
  return new Date(ms).toISOString();
}

/** A visibility query string literal: quotes and backslashes escaped. */
export function queryLiteral(value: string): string {
  return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/** Bytes of the check that starts every page token the engine hands out. */
const TOKEN_CHECK_BYTES = 16;
/** Visibility tokens are small (a few dozen bytes); anything far larger is not one of ours. */
const MAX_TOKEN_CHARS = 2048;

/**
 * The engine's page token: Temporal's opaque token behind a check bound to the listing's query.
 * Garbage, a truncated token or a token of another store's listing is refused with a 400 before
 * it reaches Temporal (whose visibility store would fail slowly on it, with an internal error).
 * The check is integrity, not secrecy: the store is authorised separately on every request.
 */
export function writePageToken(raw: Uint8Array, query: string): string {
  return Buffer.concat([tokenCheck(raw, query), raw]).toString('base64url');
}

/** The Temporal token inside one of ours; `InvalidRequestError` (field `pageToken`) otherwise. */
export function readPageToken(token: string, query: string): Uint8Array {
  const refuse = () =>
    new InvalidRequestError('pageToken', 'is not a token from a previous page of this listing');
  if (typeof token !== 'string' || token.length > MAX_TOKEN_CHARS || !/^[\w-]+$/.test(token))
    throw refuse();
  const bytes = Buffer.from(token, 'base64url');
  if (bytes.length <= TOKEN_CHECK_BYTES) throw refuse();
  const raw = bytes.subarray(TOKEN_CHECK_BYTES);
  if (!timingSafeEqual(bytes.subarray(0, TOKEN_CHECK_BYTES), tokenCheck(raw, query)))
    throw refuse();
  return raw;
}

function tokenCheck(raw: Uint8Array, query: string): Buffer {
  return createHash('sha256')
    .update('alipay-qr-engine page token\0')
    .update(query, 'utf8')
    .update('\0')
    .update(raw)
    .digest()
    .subarray(0, TOKEN_CHECK_BYTES);
}
