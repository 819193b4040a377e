import type { FastifyInstance } from 'fastify';
import { InvalidRequestError, OperationFailedError } from '../client-errors';
import type { PaymentEngineClient } from '../client';
import type { PaymentStatus } from '../workflows/payment-types';
import { errorBody } from './http-errors';

interface PaymentParams {
  outTradeNo: string;
}

/**
 * Payments of the merchant API. A refund's `Idempotency-Key` header is its refund ID (Alipay's
 * `partner_refund_id`): repeating the request, also after a timeout, returns the same refund and
 * never refunds twice. Amounts are decimal strings, never JSON numbers.
 */
export async function paymentsRoutes(
  app: FastifyInstance,
  engine: PaymentEngineClient,
): Promise<void> {
  app.get<{ Params: PaymentParams }>('/v1/payments/:outTradeNo', async (req) =>
    engine.getPayment(req.params.outTradeNo),
  );

  app.get<{
    Params: { storeId: string };
    Querystring: { status?: string; pageSize?: string; pageToken?: string };
  }>('/v1/stores/:storeId/payments', async (req) => {
    const { status, pageSize, pageToken } = req.query;
    if (pageSize !== undefined && !/^\d{1,3}$/.test(pageSize))
      throw new InvalidRequestError('pageSize', 'must be an integer from 1 to 100');
    return engine.listStorePayments(req.params.storeId, {
      ...(status !== undefined ? { status: status as PaymentStatus } : {}),
      ...(pageSize !== undefined ? { pageSize: Number(pageSize) } : {}),
      ...(pageToken !== undefined ? { pageToken } : {}),
    });
  });

  app.post<{ Params: PaymentParams }>('/v1/payments/:outTradeNo/refunds', async (req, reply) => {
    const refundId = req.headers['idempotency-key'];
    if (typeof refundId !== 'string' || refundId === '')
      throw new InvalidRequestError(
        'Idempotency-Key',
        'header is required (it becomes the refund ID)',
      );
    const body = objectBody(req.body);
    if (typeof body.amount !== 'string')
      throw new InvalidRequestError('amount', 'must be a decimal string such as "12.50"');
    for (const field of ['currency', 'reason'] as const) {
      if (body[field] !== undefined && typeof body[field] !== 'string')
        throw new InvalidRequestError(field, 'must be a string');
    }
    const entry = await engine.refund(req.params.outTradeNo, {
      refundId,
      amount: body.amount,
      ...(body.currency !== undefined ? { currency: body.currency as string } : {}),
      ...(body.reason !== undefined ? { reason: body.reason as string } : {}),
    });
    req.log.info(
      { outTradeNo: req.params.outTradeNo, refundId, status: entry.status, amount: entry.amount },
      'refund answered',
    );
    // SUCCEEDED 201; UNKNOWN 202 (an operator settles it; the ledger keeps the amount reserved);
    // FAILED 502: Alipay refused it and nothing was refunded.
    if (entry.status === 'FAILED') {
      const failure = new OperationFailedError(`Alipay refused the refund: ${entry.failure ?? ''}`);
      return reply.code(502).send({ ...errorBody(failure, 502), refund: entry });
    }
    return reply.code(entry.status === 'SUCCEEDED' ? 201 : 202).send(entry);
  });

  app.post<{ Params: PaymentParams }>('/v1/payments/:outTradeNo/cancel', async (req) => {
    const body = objectBody(req.body ?? {});
    if (body.reason !== undefined && typeof body.reason !== 'string')
      throw new InvalidRequestError('reason', 'must be a string');
    return engine.cancel(req.params.outTradeNo, body.reason as string | undefined);
  });
}

function objectBody(body: unknown): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw new InvalidRequestError('body', 'must be a JSON object');
  return body as Record<string, unknown>;
}
