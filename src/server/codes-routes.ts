import type { FastifyInstance } from 'fastify';
import { InvalidRequestError } from '../client-errors';
import type { PaymentEngineClient } from '../client';
import { codeRequestOf, codeView, withFeeOf } from './code-body';
import { QR_IMAGE_CONTENT_TYPES, renderQrImage, type QrImageFormat } from './qr-image';

interface SlotParams {
  storeId: string;
  slot: string;
}

/**
 * Codes of the merchant API: one code per store slot (`no-fee` / `fee`), each a
 * MerchantQrCodeWorkflow. Create is get-or-create (201 new, 200 existing); changes are applied
 * at Alipay before they answer.
 */
export async function codesRoutes(
  app: FastifyInstance,
  engine: PaymentEngineClient,
): Promise<void> {
  const view = (code: Parameters<typeof codeView>[0]) => codeView(code, '');

  app.post('/v1/codes', async (req, reply) => {
    const { info, unmatchedPayments } = codeRequestOf(req.body, true);
    const { created, code } = await engine.createCode(
      info,
      unmatchedPayments ? { unmatchedPayments } : {},
    );
    req.log.info({ storeId: code.storeId, slot: view(code).slot, created }, 'code ready');
    return reply.code(created ? 201 : 200).send(view(code));
  });

  app.get<{ Params: SlotParams }>('/v1/stores/:storeId/codes/:slot', async (req) => {
    const { storeId, slot } = req.params;
    return view(await engine.getCode(storeId, withFeeOf(slot)));
  });

  app.put<{ Params: SlotParams }>('/v1/stores/:storeId/codes/:slot', async (req) => {
    const { storeId, slot } = req.params;
    const { info } = codeRequestOf(req.body, false);
    if (info.storeId !== storeId) throw new InvalidRequestError('storeId', `must be ${storeId}`);
    return view(await engine.modifyCode(storeId, withFeeOf(slot), info));
  });

  for (const [action, change] of [
    ['stop', 'STOP'],
    ['restart', 'RESTART'],
  ] as const) {
    app.post<{ Params: SlotParams }>(`/v1/stores/:storeId/codes/:slot/${action}`, async (req) => {
      const { storeId, slot } = req.params;
      return view(await engine.setCodeStatus(storeId, withFeeOf(slot), change));
    });
  }

  app.delete<{ Params: SlotParams }>('/v1/stores/:storeId/codes/:slot', async (req) => {
    const { storeId, slot } = req.params;
    return view(await engine.setCodeStatus(storeId, withFeeOf(slot), 'DELETE'));
  });

  app.get<{ Params: SlotParams & { format: string }; Querystring: { size?: string } }>(
    '/v1/stores/:storeId/codes/:slot/qr.:format',
    async (req, reply) => {
      const { storeId, slot, format } = req.params;
      if (format !== 'png' && format !== 'svg')
        throw new InvalidRequestError('format', 'must be qr.png or qr.svg');
      const size = req.query.size === undefined ? 512 : Number(req.query.size);
      if (!Number.isInteger(size) || size < 64 || size > 2048)
        throw new InvalidRequestError('size', 'must be an integer from 64 to 2048');
      const code = await engine.getCode(storeId, withFeeOf(slot));
      if (!code.qrcode) throw new InvalidRequestError('slot', 'the code is not created yet');
      const image = await renderQrImage(code.qrcode, format as QrImageFormat, size);
      return reply
        .type(QR_IMAGE_CONTENT_TYPES[format as QrImageFormat])
        .header('content-disposition', `inline; filename="alipay-${storeId}-${slot}.${format}"`)
        .send(image);
    },
  );

  app.post<{ Params: SlotParams }>(
    '/v1/stores/:storeId/codes/:slot/expected-payments',
    async (req, reply) => {
      const { storeId, slot } = req.params;
      const body = (req.body ?? {}) as Record<string, unknown>;
      for (const field of ['orderId', 'amount', 'currency'] as const) {
        if (typeof body[field] !== 'string')
          throw new InvalidRequestError(field, 'must be a string');
      }
      const ttl = body.ttlSeconds;
      if (ttl !== undefined && (typeof ttl !== 'number' || !Number.isInteger(ttl)))
        throw new InvalidRequestError('ttlSeconds', 'must be an integer');
      const order = await engine.expectPayment(storeId, withFeeOf(slot), {
        orderId: body.orderId as string,
        amount: body.amount as string,
        currency: body.currency as string,
        ...(ttl !== undefined ? { ttlMs: (ttl as number) * 1000 } : {}),
      });
      return reply.code(201).send(order);
    },
  );

  app.delete<{ Params: SlotParams & { orderId: string } }>(
    '/v1/stores/:storeId/codes/:slot/expected-payments/:orderId',
    async (req) => {
      const { storeId, slot, orderId } = req.params;
      return view(await engine.withdrawExpectedPayment(storeId, withFeeOf(slot), orderId));
    },
  );
}
