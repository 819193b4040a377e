import Fastify, { type FastifyInstance } from 'fastify';
import type { Client } from '@temporalio/client';
import type { AlipayGateway } from '../alipay';
import type { PaymentEngineClient } from '../client';
import type { LogLevel, PaymentSettings } from '../config';
import { bearerAuth } from './auth';
import { codesRoutes } from './codes-routes';
import { apiErrorHandler } from './http-errors';
import type { ServerMetrics } from './metrics-port';
import { NotificationIntake } from './notification-intake';
import { notifyRoute } from './notify-route';
import { paymentsRoutes } from './payments-routes';
import { reconciliationRoutes } from './reconciliation-routes';

export interface HttpServiceDeps {
  engine: PaymentEngineClient;
  /** Verifies notifications (its construction ran the key self-test). */
  gateway: Pick<AlipayGateway, 'readNotification' | 'config'>;
  taskQueue: string;
  /** What new payments run with (their workflow input). */
  payments: PaymentSettings;
  merchantApiKeys: readonly string[];
  notifyMaxBytes: number;
  apiMaxBytes: number;
  metrics?: ServerMetrics;
  logLevel?: LogLevel | 'silent';
}

/**
 * The engine's HTTP service: Alipay's notification receiver, the merchant API, health and
 * metrics. Stateless (everything lives in Temporal), so any number can run behind a balancer.
 *
 * - `POST /alipay/notify` (public, raw body, answers `success` once Temporal took it)
 * - `/v1/…` merchant API (bearer key): codes, counter orders, payments, refunds, cancel
 * - `GET /healthz` (process up), `GET /readyz` (Temporal reachable, gateway keys self-tested)
 * - `GET /metrics` (Prometheus: engine counters plus the Temporal runtime's metrics)
 */
export function buildHttpService(deps: HttpServiceDeps): FastifyInstance {
  const app = Fastify({
    logger: {
      level: deps.logLevel ?? 'info',
      // Keys and signatures never reach the logs; bodies are not logged at all.
      redact: ['req.headers.authorization', 'req.headers["idempotency-key"]'],
    },
    bodyLimit: deps.apiMaxBytes,
  });
  const temporal: Client = deps.engine.temporal;

  app.addHook('onResponse', async (req, reply) => {
    deps.metrics?.httpRequest(
      req.routeOptions.url ?? 'unmatched',
      req.method,
      reply.statusCode,
      reply.elapsedTime / 1000,
    );
  });

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

  const intake = new NotificationIntake({
    client: temporal,
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

  void app.register(async (api) => {
    api.addHook('onRequest', bearerAuth(deps.merchantApiKeys));
    api.setErrorHandler(apiErrorHandler);
    await codesRoutes(api, deps.engine);
    await paymentsRoutes(api, deps.engine);
    await reconciliationRoutes(api, deps.engine, deps.taskQueue);
  });
  app.setErrorHandler(apiErrorHandler);
  app.setNotFoundHandler((req, reply) =>
    reply
      .code(404)
      .send({ error: { code: 'NOT_FOUND', message: `no route ${req.method} ${req.url}` } }),
  );
  return app;
}
