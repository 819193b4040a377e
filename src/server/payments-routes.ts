import { Type } from '@sinclair/typebox';
import { OperationFailedError } from '../client-errors';
import type { RefundAnswer } from '../client';
import type { ApiKey } from './api-keys';
import type { ApiContext, TypedApp } from './api-context';
import { keyOf } from './auth';
import { errorBody } from './http-errors';
import {
  CancelBody,
  ListQuery,
  PaymentParams,
  RefundBody,
  RefundHeaders,
  RefundParams,
  StoreParams,
  errors,
} from './schemas';

const tags = ['payments'];

/**
 * Payments of the merchant API. A refund's `Idempotency-Key` header is its refund ID: repeating
 * the request (also after a timeout) answers the same refund with `Idempotent-Replayed: true` and
 * never refunds twice; the same key with other parameters is a 409. Amounts are decimal strings,
 * never JSON numbers. A payment outside the key's scope answers 404, like a missing one.
 */
export async function paymentsRoutes(app: TypedApp, ctx: ApiContext): Promise<void> {
  const { engine, scope } = ctx;

  /** The payment must be in the key's scope before anything is asked of it. */
  const checkPayment = async (key: ApiKey, outTradeNo: string) => {
    if (key.scope.kind !== 'all')
      await scope.checkPayment(key, await engine.getPayment(outTradeNo));
  };

  app.get(
    '/v1/payments/:outTradeNo',
    {
      schema: {
        tags,
        summary: 'Everything about a payment: status, amounts, refund ledger, reversal, timeline',
        params: PaymentParams,
        response: { 200: Type.Ref('Payment'), ...errors(400, 401, 404, 429, 503) },
      },
    },
    async (req) => scope.checkPayment(keyOf(req), await engine.getPayment(req.params.outTradeNo)),
  );

  app.get(
    '/v1/stores/:storeId/payments',
    {
      schema: {
        tags,
        summary: "A store's payments, most recent first (from visibility)",
        params: StoreParams,
        querystring: ListQuery,
        response: { 200: Type.Ref('PaymentPage'), ...errors(400, 401, 404, 429, 503) },
      },
    },
    async (req) => {
      const { status, pageSize, pageToken } = req.query;
      await scope.checkStore(keyOf(req), req.params.storeId);
      return engine.listStorePayments(req.params.storeId, {
        ...(status !== undefined ? { status } : {}),
        ...(pageSize !== undefined ? { pageSize } : {}),
        ...(pageToken !== undefined ? { pageToken } : {}),
      });
    },
  );

  app.post(
    '/v1/payments/:outTradeNo/refunds',
    {
      schema: {
        tags,
        summary: 'Refund part or all of the remaining balance',
        description:
          '201 succeeded; 202 still running after the wait (`status` PENDING; follow `Location`) or outcome UNKNOWN (an operator settles it); 502 Alipay refused it. A repeat with the same Idempotency-Key and parameters answers the first refund with `Idempotent-Replayed: true`; other parameters under a used key answer 409.',
        params: PaymentParams,
        headers: RefundHeaders,
        body: RefundBody,
        response: {
          201: Type.Ref('Refund'),
          202: Type.Ref('Refund'),
          ...errors(400, 401, 403, 404, 409, 422, 429, 503),
          502: Type.Object(
            {
              error: Type.Object({ code: Type.String(), message: Type.String() }),
              refund: Type.Ref('Refund'),
            },
            { additionalProperties: true },
          ),
        },
      },
    },
    async (req, reply) => {
      const { outTradeNo } = req.params;
      const refundId = req.headers['idempotency-key'];
      const { amount, currency, reason } = req.body;
      await checkPayment(keyOf(req), outTradeNo);
      const answer = await engine.refund(outTradeNo, {
        refundId,
        amount,
        ...(currency !== undefined ? { currency } : {}),
        ...(reason !== undefined ? { reason } : {}),
      });
      const { replayed, ...entry } = answer satisfies RefundAnswer;
      req.log.info(
        { outTradeNo, refundId, status: entry.status, amount: entry.amount, replayed },
        'refund answered',
      );
      if (replayed) void reply.header('idempotent-replayed', 'true');
      void reply.header(
        'location',
        `/v1/payments/${encodeURIComponent(outTradeNo)}/refunds/${encodeURIComponent(refundId)}`,
      );
      // FAILED 502: Alipay refused it and nothing was refunded.
      if (entry.status === 'FAILED') {
        const failure = new OperationFailedError(
          `Alipay refused the refund: ${entry.failure ?? ''}`,
        );
        return reply.code(502).send({ ...errorBody(failure, 502), refund: entry });
      }
      // SUCCEEDED 201; PENDING 202 (still running: the Location tells how it ends); UNKNOWN 202
      // (an operator settles it; the ledger keeps the amount reserved).
      return reply.code(entry.status === 'SUCCEEDED' ? 201 : 202).send(entry);
    },
  );

  app.get(
    '/v1/payments/:outTradeNo/refunds/:refundId',
    {
      schema: {
        tags,
        summary: "A refund's ledger entry (PENDING while it runs)",
        params: RefundParams,
        response: { 200: Type.Ref('Refund'), ...errors(400, 401, 404, 429, 503) },
      },
    },
    async (req) => {
      const { outTradeNo, refundId } = req.params;
      await checkPayment(keyOf(req), outTradeNo);
      return engine.getRefund(outTradeNo, refundId);
    },
  );

  app.post(
    '/v1/payments/:outTradeNo/cancel',
    {
      schema: {
        tags,
        summary: 'CANCEL the payment (on its GMT+8 day, before any refund)',
        params: PaymentParams,
        body: CancelBody,
        response: {
          200: Type.Ref('Payment'),
          ...errors(400, 401, 403, 404, 409, 422, 429, 502, 503),
        },
      },
      // The body is optional: no body is an empty one.
      preValidation: async (req) => {
        req.body ??= {};
      },
    },
    async (req) => {
      const { outTradeNo } = req.params;
      await checkPayment(keyOf(req), outTradeNo);
      return engine.cancel(outTradeNo, req.body.reason);
    },
  );
}
