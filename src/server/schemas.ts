import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { PAYMENT_STATUSES } from '../client';

/**
 * The merchant API's declared shapes (TypeBox = JSON Schema with static types). Fastify validates
 * requests against them, serializes answers with them and @fastify/swagger turns them into the
 * OpenAPI document. Money is a decimal string here; whether it is valid money for the currency is
 * the domain's call (a 422 naming the field), not the schema's.
 *
 * Answers declare their documented fields and allow more (`additionalProperties`): a field the
 * workflows add later reaches the merchant instead of being dropped by the serializer.
 */

/** A string that must be one of `values` (an OpenAPI `enum`, not an `anyOf` of constants). */
export function StringEnum<const T extends readonly string[]>(
  values: T,
  options: { description?: string; default?: T[number] } = {},
) {
  return Type.Unsafe<T[number]>({ type: 'string', enum: [...values], ...options });
}

const open = { additionalProperties: true } as const;
const closed = { additionalProperties: false } as const;

export const StoreId = Type.String({
  pattern: '^[\\w-]{1,32}$',
  description: 'The store ID: 1-32 letters, digits, _ or -',
});
export const Slot = StringEnum(['no-fee', 'fee'] as const, {
  description: 'The store slot: `no-fee` (the plain code) or `fee` (the code with a channel fee)',
});
export const OutTradeNo = Type.String({
  pattern: '^[\\w.-]{1,64}$',
  description: "Alipay's out_trade_no of the payment",
});
export const RefundId = Type.String({
  pattern: '^[\\w.:-]{1,64}$',
  description: 'The refund ID (the Idempotency-Key it was requested with)',
});
export const Amount = Type.String({
  maxLength: 32,
  description: 'A decimal string in the currency\'s units, e.g. "12.50" (never a JSON number)',
});
const Currency = Type.String({ maxLength: 3, description: 'ISO 4217 code, e.g. USD' });

// ---- errors -----------------------------------------------------------------------------------

export const ErrorBody = Type.Object(
  {
    error: Type.Object({
      code: Type.String({ description: 'Stable code, e.g. INVALID_REQUEST, REQUEST_REJECTED' }),
      message: Type.String(),
      field: Type.Optional(Type.String({ description: 'The request field at fault' })),
    }),
  },
  { $id: 'Error', ...open },
);

// ---- codes ------------------------------------------------------------------------------------

const FixedFee = Type.Object(
  { type: Type.Literal('FIXED'), amount: Amount },
  { ...closed, description: 'A fixed fee in the settlement currency' },
);
const RateFee = Type.Object(
  {
    type: Type.Literal('RATE'),
    rate: Type.String({ maxLength: 16, description: 'A decimal rate, e.g. "0.015"' }),
  },
  { ...closed, description: 'A fee rate' },
);
/** `oneOf` with a discriminator: a wrong field is reported inside the chosen variant. */
export const ChannelFeeBody = Type.Unsafe<Static<typeof FixedFee> | Static<typeof RateFee>>({
  oneOf: [FixedFee, RateFee],
  discriminator: { propertyName: 'type' },
  description: 'Selects the `fee` slot of the store',
});

const Text = (description?: string) =>
  Type.String({ maxLength: 256, ...(description ? { description } : {}) });

const codeFields = {
  secondaryMerchantId: Text('Your secondary merchant; cannot change'),
  secondaryMerchantName: Text(),
  merchantCategoryCode: Text('4-digit MCC, e.g. 5812'),
  storeId: Text('1-32 letters, digits, _ or -'),
  storeName: Type.Optional(Text('Required except for taxis (MCC 4121)')),
  pricingCurrency: Text('The currency the customer types the amount in'),
  settlementCurrency: Text(),
  serviceProviderId: Type.Optional(Text()),
  countryCode: Type.Optional(Text('ISO 3166-1 alpha-2')),
  address: Type.Optional(Text()),
  notifyMobile: Type.Optional(Text()),
  notifyWangwang: Type.Optional(Text()),
  notifyAlipayAccount: Type.Optional(Text()),
  notificationSignType: Type.Optional(StringEnum(['MD5', 'RSA', 'RSA2'] as const)),
  notificationCharset: Type.Optional(StringEnum(['UTF-8', 'GBK'] as const)),
  channelFee: Type.Optional(ChannelFeeBody),
  passback: Type.Optional(Type.Record(Type.String(), Type.String())),
  taxi: Type.Optional(
    Type.Object(
      {
        operationId: Text(),
        number: Text(),
        driverName: Text(),
        driverMobile: Text(),
      },
      closed,
    ),
  ),
  showMemo: Type.Optional(Type.Boolean()),
};

export const CodeModifyBody = Type.Object(codeFields, {
  ...closed,
  description: 'The complete data of the code (MODIFY always sends everything)',
});
export type CodeModifyBody = Static<typeof CodeModifyBody>;

export const CodeCreateBody = Type.Object(
  {
    ...codeFields,
    unmatchedPayments: Type.Optional(
      StringEnum(['REVERSE', 'ACCEPT'] as const, {
        description:
          'What happens to a payment that matches no pending counter order while orders are pending',
        default: 'REVERSE',
      }),
    ),
  },
  closed,
);
export type CodeCreateBody = Static<typeof CodeCreateBody>;

export const SlotParams = Type.Object({ storeId: StoreId, slot: Slot });
export const QrImageParams = Type.Object({
  storeId: StoreId,
  slot: Slot,
  format: StringEnum(['png', 'svg'] as const),
});

export const CounterOrderBody = Type.Object(
  {
    orderId: Type.String({ minLength: 1, maxLength: 64 }),
    amount: Amount,
    currency: Currency,
    ttlSeconds: Type.Optional(Type.Integer({ minimum: 1 })),
  },
  closed,
);

export const CounterOrder = Type.Object(
  {
    orderId: Type.String(),
    amount: Type.String(),
    currency: Type.String(),
    amountMinor: Type.Integer(),
    registeredAt: Type.Integer({ description: 'Epoch ms' }),
    expiresAt: Type.Integer({ description: 'Epoch ms' }),
  },
  { $id: 'CounterOrder', ...open },
);

export const Code = Type.Object(
  {
    status: StringEnum(['CREATING', 'ACTIVE', 'STOPPED', 'DELETED'] as const),
    storeId: Type.String(),
    slot: Slot,
    withFee: Type.Boolean(),
    qrcode: Type.Optional(
      Type.String({ description: 'The code content (https://qr.alipay.com/…)' }),
    ),
    imageUrl: Type.Optional(Type.String()),
    info: Type.Object({}, { ...open, description: 'The code data, as last sent to Alipay' }),
    pendingOrders: Type.Array(Type.Ref('CounterOrder')),
    unmatchedPayments: StringEnum(['REVERSE', 'ACCEPT'] as const),
    history: Type.Array(Type.Object({}, open)),
    links: Type.Object({ self: Type.String(), png: Type.String(), svg: Type.String() }),
  },
  { $id: 'Code', ...open },
);

// ---- payments ---------------------------------------------------------------------------------

export const RefundEntry = Type.Object(
  {
    refundId: Type.String(),
    amount: Type.String(),
    amountMinor: Type.Integer(),
    currency: Type.String(),
    status: StringEnum(['PENDING', 'SUCCEEDED', 'FAILED', 'UNKNOWN'] as const),
    reason: Type.Optional(Type.String()),
    failure: Type.Optional(Type.String()),
    reversal: Type.Optional(Type.Boolean()),
    requestedAt: Type.Integer({ description: 'Epoch ms' }),
    finishedAt: Type.Optional(Type.Integer({ description: 'Epoch ms' })),
  },
  { $id: 'Refund', ...open },
);

export const Payment = Type.Object(
  {
    status: Type.String({ description: 'AWAITING_NOTIFICATION, CONFIRMING, PAID, …' }),
    outTradeNo: Type.String(),
    tradeNo: Type.Optional(Type.String()),
    storeId: Type.Optional(Type.String()),
    currency: Type.Optional(Type.String()),
    paid: Type.Optional(Type.String()),
    refunded: Type.Optional(Type.String()),
    refundable: Type.Optional(Type.String()),
    paidMinor: Type.Integer(),
    refundedMinor: Type.Integer(),
    refundableMinor: Type.Integer(),
    refunds: Type.Array(Type.Ref('Refund')),
    reversal: Type.Optional(Type.Object({}, open)),
    timeline: Type.Array(Type.Object({}, open)),
  },
  { $id: 'Payment', ...open },
);

export const PaymentPage = Type.Object(
  {
    payments: Type.Array(
      Type.Object(
        {
          outTradeNo: Type.String(),
          status: Type.String(),
          storeId: Type.Optional(Type.String()),
          currency: Type.Optional(Type.String()),
          paid: Type.Optional(Type.String()),
          refunded: Type.Optional(Type.String()),
          open: Type.Boolean(),
        },
        open,
      ),
    ),
    nextPageToken: Type.Optional(Type.String({ description: 'Pass back as pageToken' })),
  },
  { $id: 'PaymentPage', ...open },
);

export const PaymentParams = Type.Object({ outTradeNo: OutTradeNo });
export const RefundParams = Type.Object({ outTradeNo: OutTradeNo, refundId: RefundId });
export const StoreParams = Type.Object({ storeId: StoreId });

export const ListQuery = Type.Object(
  {
    status: Type.Optional(StringEnum(PAYMENT_STATUSES)),
    pageSize: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 20 })),
    pageToken: Type.Optional(Type.String({ pattern: '^[\\w-]{1,2048}$' })),
  },
  closed,
);

export const RefundHeaders = Type.Object({
  'idempotency-key': Type.String({
    pattern: '^[\\w.:-]{1,64}$',
    description: 'The refund ID: repeat it to repeat the request safely',
  }),
});

export const RefundBody = Type.Object(
  {
    amount: Amount,
    currency: Type.Optional(Currency),
    reason: Type.Optional(Type.String({ maxLength: 256 })),
  },
  closed,
);

export const CancelBody = Type.Object(
  { reason: Type.Optional(Type.String({ maxLength: 256 })) },
  closed,
);

/** Schemas shared by reference (`$ref`), added once to the app (and to the OpenAPI components). */
export const SHARED_SCHEMAS: TSchema[] = [
  ErrorBody,
  CounterOrder,
  Code,
  RefundEntry,
  Payment,
  PaymentPage,
];

/** The error answers a route may give, for its `response` declaration. */
export function errors(...statuses: number[]): Record<number, TSchema> {
  return Object.fromEntries(statuses.map((s) => [s, Type.Ref('Error')]));
}
