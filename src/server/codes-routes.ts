import { Type } from '@sinclair/typebox';
import { InvalidRequestError, RequestRejectedError } from '../client-errors';
import type { ApiContext, TypedApp } from './api-context';
import { keyOf } from './auth';
import { codeInputOf, codeView, withFeeOf } from './code-view';
import { HttpRequestError } from './http-errors';
import { QR_IMAGE_CONTENT_TYPES } from './qr-image';
import {
  CodeCreateBody,
  CodeModifyBody,
  CounterOrderBody,
  QrImageParams,
  SlotParams,
  errors,
} from './schemas';

const tags = ['codes'];
const codeAnswer = Type.Ref('Code');
const TOUCH_ERRORS = errors(400, 401, 403, 404, 409, 422, 429, 502, 503);

/**
 * Codes of the merchant API: one code per store slot (`no-fee` / `fee`), each a
 * MerchantQrCodeWorkflow. Create is get-or-create (201 new, 200 existing); changes are applied
 * at Alipay before they answer. A code outside the key's scope answers 404, like a missing one.
 */
export async function codesRoutes(app: TypedApp, ctx: ApiContext): Promise<void> {
  const { engine, scope } = ctx;

  app.post(
    '/v1/codes',
    {
      schema: {
        tags,
        summary: "Get or create a store's code",
        description:
          'Creates the code of a store slot at Alipay (201), or answers the existing one (200). A `channelFee` selects the `fee` slot.',
        body: CodeCreateBody,
        response: { 200: codeAnswer, 201: codeAnswer, ...TOUCH_ERRORS },
      },
    },
    async (req, reply) => {
      const key = keyOf(req);
      const { unmatchedPayments, ...data } = req.body;
      if (!scope.mayCreate(key, data))
        throw new HttpRequestError(
          403,
          'OUT_OF_SCOPE',
          'this API key may not create codes for this store or secondary merchant',
          'storeId',
        );
      const { created, code } = await engine.createCode(
        codeInputOf(data),
        unmatchedPayments ? { unmatchedPayments } : {},
      );
      if (!scope.mayCreate(key, code.info)) {
        // Store IDs are the partner's: the store is taken by a merchant this key cannot see.
        throw new RequestRejectedError('CONFLICT', 'this store ID is not available', 'storeId');
      }
      req.log.info({ storeId: code.storeId, slot: codeView(code).slot, created }, 'code ready');
      return reply.code(created ? 201 : 200).send(codeView(code));
    },
  );

  app.get(
    '/v1/stores/:storeId/codes/:slot',
    {
      schema: {
        tags,
        summary: 'A code: status, content, data, pending counter orders, history',
        params: SlotParams,
        response: { 200: codeAnswer, ...errors(400, 401, 404, 429, 503) },
      },
    },
    async (req) => {
      const { storeId, slot } = req.params;
      return codeView(scope.checkCode(keyOf(req), await engine.getCode(storeId, withFeeOf(slot))));
    },
  );

  app.put(
    '/v1/stores/:storeId/codes/:slot',
    {
      schema: {
        tags,
        summary: 'MODIFY the code with its complete new data',
        params: SlotParams,
        body: CodeModifyBody,
        response: { 200: codeAnswer, ...TOUCH_ERRORS },
      },
    },
    async (req) => {
      const { storeId, slot } = req.params;
      if (req.body.storeId !== storeId)
        throw new InvalidRequestError('storeId', `must be ${storeId}`);
      await scope.checkCodeSlot(keyOf(req), storeId, withFeeOf(slot));
      return codeView(await engine.modifyCode(storeId, withFeeOf(slot), codeInputOf(req.body)));
    },
  );

  for (const [action, change, summary] of [
    ['stop', 'STOP', 'Stop the code (payments are refused until it restarts)'],
    ['restart', 'RESTART', 'Restart a stopped code'],
  ] as const) {
    app.post(
      `/v1/stores/:storeId/codes/:slot/${action}`,
      {
        schema: {
          tags,
          summary,
          params: SlotParams,
          response: { 200: codeAnswer, ...TOUCH_ERRORS },
        },
      },
      async (req) => {
        const { storeId, slot } = req.params;
        await scope.checkCodeSlot(keyOf(req), storeId, withFeeOf(slot));
        return codeView(await engine.setCodeStatus(storeId, withFeeOf(slot), change));
      },
    );
  }

  app.delete(
    '/v1/stores/:storeId/codes/:slot',
    {
      schema: {
        tags,
        summary: 'Delete the code (final)',
        params: SlotParams,
        response: { 200: codeAnswer, ...TOUCH_ERRORS },
      },
    },
    async (req) => {
      const { storeId, slot } = req.params;
      await scope.checkCodeSlot(keyOf(req), storeId, withFeeOf(slot));
      return codeView(await engine.setCodeStatus(storeId, withFeeOf(slot), 'DELETE'));
    },
  );

  app.get(
    '/v1/stores/:storeId/codes/:slot/qr.:format',
    {
      schema: {
        tags,
        summary: 'The code drawn for printing (PNG or SVG)',
        params: QrImageParams,
        querystring: Type.Object(
          {
            size: Type.Optional(
              Type.Integer({
                minimum: 64,
                maximum: ctx.qrMaxSize,
                default: 512,
                description: 'Width in pixels (PNG)',
              }),
            ),
          },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Unsafe<Buffer>({
            type: 'string',
            format: 'binary',
            description: 'image/png or image/svg+xml',
          }),
          ...errors(400, 401, 404, 429, 503),
        },
      },
    },
    async (req, reply) => {
      const { storeId, slot, format } = req.params;
      const code = scope.checkCode(keyOf(req), await engine.getCode(storeId, withFeeOf(slot)));
      if (!code.qrcode) throw new InvalidRequestError('slot', 'the code is not created yet');
      const image = await ctx.qr.render({
        content: code.qrcode,
        format,
        size: req.query.size ?? 512,
      });
      return reply
        .type(QR_IMAGE_CONTENT_TYPES[format])
        .header('content-disposition', `inline; filename="alipay-${storeId}-${slot}.${format}"`)
        .send(image);
    },
  );

  app.post(
    '/v1/stores/:storeId/codes/:slot/expected-payments',
    {
      schema: {
        tags,
        summary: 'The till expects a payment (a counter order)',
        params: SlotParams,
        body: CounterOrderBody,
        response: { 201: Type.Ref('CounterOrder'), ...TOUCH_ERRORS },
      },
    },
    async (req, reply) => {
      const { storeId, slot } = req.params;
      const { orderId, amount, currency, ttlSeconds } = req.body;
      await scope.checkCodeSlot(keyOf(req), storeId, withFeeOf(slot));
      const order = await engine.expectPayment(storeId, withFeeOf(slot), {
        orderId,
        amount,
        currency,
        ...(ttlSeconds !== undefined ? { ttlMs: ttlSeconds * 1000 } : {}),
      });
      return reply.code(201).send(order);
    },
  );

  app.delete(
    '/v1/stores/:storeId/codes/:slot/expected-payments/:orderId',
    {
      schema: {
        tags,
        summary: 'Withdraw an expected payment',
        params: Type.Object({
          storeId: SlotParams.properties.storeId,
          slot: SlotParams.properties.slot,
          orderId: Type.String({ minLength: 1, maxLength: 64 }),
        }),
        response: { 200: codeAnswer, ...TOUCH_ERRORS },
      },
    },
    async (req) => {
      const { storeId, slot, orderId } = req.params;
      await scope.checkCodeSlot(keyOf(req), storeId, withFeeOf(slot));
      return codeView(await engine.withdrawExpectedPayment(storeId, withFeeOf(slot), orderId));
    },
  );
}
