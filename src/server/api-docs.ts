import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';

/** Where the merchant API describes itself (no key needed: the description is public). */
export const OPENAPI_PATH = '/v1/openapi.json';
export const API_REFERENCE_PATH = '/v1/docs';

/**
 * The merchant API's OpenAPI 3 document, generated from the routes' declared schemas
 * (@fastify/swagger), and a readable reference page (@fastify/swagger-ui, whose assets ship in
 * the npm package: it works offline). Registered before the routes so that it sees them all;
 * routes without tags (the notification receiver, health) stay out of the document.
 */
export const apiDocs = fp(async (app: FastifyInstance) => {
  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'alipay-qr-engine merchant API',
        version: '1',
        description:
          'Codes, counter orders, payments and refunds of the Alipay Merchant QR Code engine. Amounts are decimal strings. Errors are `{"error":{"code","message","field"?}}`.',
      },
      components: {
        securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } },
      },
      security: [{ bearer: [] }],
      tags: [
        { name: 'codes', description: "Store codes, their pictures and the till's counter orders" },
        { name: 'payments', description: 'Payments, refunds and cancels' },
      ],
    },
    hideUntagged: true,
    refResolver: {
      // Shared schemas keep their names (`Payment`, `Refund`…) in components.schemas.
      buildLocalReference: (json, _baseUri, _fragment, i) =>
        typeof json.$id === 'string' ? json.$id : `def-${i}`,
    },
  });
  app.get(OPENAPI_PATH, async () => app.swagger());
  await app.register(swaggerUi, {
    routePrefix: API_REFERENCE_PATH,
    uiConfig: { docExpansion: 'list', deepLinking: true, url: OPENAPI_PATH },
    staticCSP: true,
  });
});
