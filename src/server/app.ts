import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import rateLimit from '@fastify/rate-limit';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Client } from '@temporalio/client';
import type { AlipayGateway } from '../alipay';
import type { PaymentEngineClient } from '../client';
import type { LogLevel, PaymentSettings } from '../config';
import type { ApiKey } from './api-keys';
import { apiDocs } from './api-docs';
import { bearerAuth } from './auth';
import { codesRoutes } from './codes-routes';
import { apiErrorHandler, HttpRequestError } from './http-errors';
import type { ServerMetrics } from './metrics-port';
import { NotificationIntake } from './notification-intake';
import { notifyRoute } from './notify-route';
import { paymentsRoutes } from './payments-routes';
import { reconciliationRoutes } from './reconciliation-routes';
import type { QrRenderer } from './qr-image';
import { SHARED_SCHEMAS } from './schemas';
import { ScopeGuard } from './scope';
import { addSharedSchemas, validationFailure, validatorCompiler } from './validation';

export interface HttpServiceDeps {
  engine: PaymentEngineClient;
  /** Verifies notifications (its construction ran the key self-test). */
  gateway: Pick<AlipayGateway, 'readNotification' | 'config'>;
  taskQueue: string;
  /** What new payments run with (their workflow input). */
  payments: PaymentSettings;
  apiKeys: readonly ApiKey[];
  notifyMaxBytes: number;
  apiMaxBytes: number;
  /** Merchant API requests per minute and key (a key may carry its own). */
  rateLimitPerMinute: number;
  qr: QrRenderer;
  qrMaxSize: number;
  metrics?: ServerMetrics;
  logLevel?: LogLevel | 'silent';
  /** Where log lines go (default stdout); tests read them. */
  logStream?: { write(line: string): void };
}

/**
 * The engine's public HTTP service: Alipay's notification receiver, the merchant API and a
 * liveness probe. Stateless (everything lives in Temporal), so any number can run behind a
 * balancer. Operator routes (`/metrics`, `/readyz`) live on the admin listener instead.
 *
 * - `POST /alipay/notify` (public, raw body, answers `success` once Temporal took it)
 * - `/v1/…` merchant API (bearer key, scoped, rate-limited): codes, counter orders, payments,
 *   refunds, cancel; `/v1/openapi.json` and `/v1/docs` describe it
 * - `GET /healthz` (process up)
 */
export function buildHttpService(deps: HttpServiceDeps): FastifyInstance {
  const app = Fastify({
    ...loggerOptions(deps),
    bodyLimit: deps.apiMaxBytes,
    schemaErrorFormatter: (errors, part) => validationFailure(errors, part),
  }).withTypeProvider<TypeBoxTypeProvider>();
  app.setValidatorCompiler(validatorCompiler);
  addSharedSchemas(SHARED_SCHEMAS);
  for (const schema of SHARED_SCHEMAS) app.addSchema(schema);

  app.addHook('onResponse', async (req, reply) => {
    deps.metrics?.httpRequest(
      req.routeOptions.url ?? 'unmatched',
      req.method,
      reply.statusCode,
      reply.elapsedTime / 1000,
    );
  });

  app.get('/healthz', async () => ({ status: 'ok' }));

  const intake = new NotificationIntake({
    client: deps.engine.temporal,
    partnerId: deps.engine.partnerId,
    taskQueue: deps.taskQueue,
    payments: deps.payments,
  });
  void app.register(notifyRoute, {
    gateway: deps.gateway,
    intake,
    partnerId: deps.engine.partnerId,
    maxBytes: deps.notifyMaxBytes,
    ...(deps.metrics ? { metrics: deps.metrics } : {}),
  });

  void app.register(apiDocs);

  const ctx = {
    engine: deps.engine,
    scope: new ScopeGuard(deps.engine),
    qr: deps.qr,
    qrMaxSize: deps.qrMaxSize,
  };
  void app.register(async (api) => {
    api.setErrorHandler(apiErrorHandler);
    api.addHook('onRequest', bearerAuth(deps.apiKeys));
    // After authentication (preHandler), so that every key has its own budget.
    await api.register(rateLimit, {
      hook: 'preHandler',
      timeWindow: 60_000,
      max: (req) => req.apiKey?.ratePerMinute ?? deps.rateLimitPerMinute,
      keyGenerator: (req) => req.apiKey?.id ?? req.ip,
      errorResponseBuilder: (_req, context) =>
        new HttpRequestError(
          429,
          'RATE_LIMITED',
          `more than ${context.max} requests per minute with this API key; retry in ${Math.ceil(context.ttl / 1000)} s`,
        ),
    });
    const typed = api.withTypeProvider<TypeBoxTypeProvider>();
    await codesRoutes(typed, ctx);
    await paymentsRoutes(typed, ctx);
    // A day's reconciliation spans every store of the partner: keys scoped to all only.
    await api.register(async (recon) => {
      recon.addHook('preHandler', async (req, reply) => {
        if (req.apiKey?.scope.kind !== 'all')
          return reply.code(404).send({ error: { code: 'NOT_FOUND', message: 'not found' } });
        if (req.method !== 'GET' && req.apiKey.access !== 'read-write')
          return reply
            .code(403)
            .send({ error: { code: 'FORBIDDEN', message: 'this API key is read-only' } });
      });
      await reconciliationRoutes(recon, deps.engine, deps.taskQueue);
    });
  });
  app.setErrorHandler(apiErrorHandler);
  app.setNotFoundHandler((req, reply) =>
    reply
      .code(404)
      .send({ error: { code: 'NOT_FOUND', message: `no route ${req.method} ${pathOf(req.url)}` } }),
  );
  return app;
}

export interface AdminServiceDeps {
  temporal: Client;
  gateway: Pick<AlipayGateway, 'config'>;
  metrics?: ServerMetrics;
  logLevel?: LogLevel | 'silent';
  logStream?: { write(line: string): void };
}

/**
 * The operator listener, on its own address (loopback by default): `/metrics` (Prometheus),
 * `/readyz` (Temporal reachable, gateway keys self-tested) and `/healthz`. Payment counts and the
 * gateway's origin are no business of the internet that reaches the notification receiver.
 */
export function buildAdminService(deps: AdminServiceDeps): FastifyInstance {
  const app = Fastify(loggerOptions(deps));
  const { temporal } = deps;

  app.get('/healthz', async () => ({ status: 'ok' }));

  app.get('/readyz', async (_req, reply) => {
    const temporalCheck = await temporal.connection
      .withDeadline(Date.now() + 2000, () => temporal.workflowService.getSystemInfo({}))
      .then(() => ({ ok: true as const }))
      .catch((err: unknown) => ({
        ok: false as const,
        error: err instanceof Error ? err.message : String(err),
      }));
    const gateway = {
      ok: true as const,
      detail: `keys self-tested at start-up (${deps.gateway.config.signType})`,
      url: new URL(deps.gateway.config.gatewayUrl).origin,
    };
    const ready = temporalCheck.ok && gateway.ok;
    return reply.code(ready ? 200 : 503).send({
      status: ready ? 'ready' : 'not ready',
      checks: { temporal: temporalCheck, gateway },
    });
  });

  app.get('/metrics', async (_req, reply) => {
    if (!deps.metrics)
      return reply.code(404).send({ error: { code: 'NOT_FOUND', message: 'metrics are off' } });
    return reply.type(deps.metrics.contentType).send(await deps.metrics.render());
  });
  return app;
}

/**
 * JSON lines; keys, signatures and bodies never logged, and URLs without their query string (a
 * key pasted as `?key=…` must not end up in the logs).
 */
function loggerOptions(deps: {
  logLevel?: LogLevel | 'silent';
  logStream?: { write(line: string): void };
}): Pick<FastifyServerOptions, 'logger'> {
  return {
    logger: {
      level: deps.logLevel ?? 'info',
      redact: ['req.headers.authorization', 'req.headers["idempotency-key"]'],
      serializers: {
        req: (req: { method: string; url: string; ip?: string }) => ({
          method: req.method,
          url: pathOf(req.url),
          ...(req.ip ? { remoteAddress: req.ip } : {}),
        }),
      },
      ...(deps.logStream ? { stream: deps.logStream } : {}),
    },
  };
}

/** A request URL without its query string. */
export function pathOf(url: string): string {
  const q = url.indexOf('?');
  return q < 0 ? url : url.slice(0, q);
}
