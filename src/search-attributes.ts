import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

/**
 * The engine's custom search attributes: what an operator filters on in the Temporal Web UI
 * (e.g. `PaymentStatus = "REFUNDED" AND AlipayStoreId = "S01"`). Defined once here and used by the
 * workflows (upsert), the client (visibility queries) and the dev-server launcher (registration).
 */
export const PaymentStatus = defineSearchAttributeKey('PaymentStatus', SearchAttributeType.KEYWORD);
export const AlipayPartnerId = defineSearchAttributeKey(
  'AlipayPartnerId',
  SearchAttributeType.KEYWORD,
);
export const AlipayOutTradeNo = defineSearchAttributeKey(
  'AlipayOutTradeNo',
  SearchAttributeType.KEYWORD,
);
export const AlipayTradeNo = defineSearchAttributeKey('AlipayTradeNo', SearchAttributeType.KEYWORD);
export const AlipayStoreId = defineSearchAttributeKey('AlipayStoreId', SearchAttributeType.KEYWORD);
export const PaymentCurrency = defineSearchAttributeKey(
  'PaymentCurrency',
  SearchAttributeType.KEYWORD,
);
export const PaidMinor = defineSearchAttributeKey('PaidMinor', SearchAttributeType.INT);
export const RefundedMinor = defineSearchAttributeKey('RefundedMinor', SearchAttributeType.INT);
/** When the last refund or reversal succeeded: "refunded today" is a range on this. */
export const LastRefundAt = defineSearchAttributeKey('LastRefundAt', SearchAttributeType.DATETIME);
export const QrCodeStatus = defineSearchAttributeKey('QrCodeStatus', SearchAttributeType.KEYWORD);

/** Every custom search attribute, for registration on a server. */
export const ENGINE_SEARCH_ATTRIBUTES = [
  PaymentStatus,
  AlipayPartnerId,
  AlipayOutTradeNo,
  AlipayTradeNo,
  AlipayStoreId,
  PaymentCurrency,
  PaidMinor,
  RefundedMinor,
  LastRefundAt,
  QrCodeStatus,
] as const;

/** The CLI's name for each search-attribute type (`temporal operator search-attribute create --type`). */
export const CLI_TYPE_NAMES: Readonly<Record<SearchAttributeType, string>> = {
  [SearchAttributeType.TEXT]: 'Text',
  [SearchAttributeType.KEYWORD]: 'Keyword',
  [SearchAttributeType.INT]: 'Int',
  [SearchAttributeType.DOUBLE]: 'Double',
  [SearchAttributeType.BOOL]: 'Bool',
  [SearchAttributeType.DATETIME]: 'Datetime',
  [SearchAttributeType.KEYWORD_LIST]: 'KeywordList',
};
