import type { FastifyInstance } from 'fastify';
import {
  NOTIFICATION_ACK,
  NotificationFormatError,
  NotificationSignatureError,
  type AlipayGateway,
  type PaymentNotification,
} from '../alipay';
import type { NotificationIntake } from './notification-intake';
import type { ServerMetrics } from './metrics-port';

export interface NotifyRouteOptions {
  gateway: Pick<AlipayGateway, 'readNotification'>;
  intake: Pick<NotificationIntake, 'forward'>;
  partnerId: string;
  maxBytes: number;
  metrics?: ServerMetrics;
}

/** Anything but the exact bytes `success` makes Alipay send the notification again. */
const RETRY_PLEASE = 'fail';

/**
 * `POST /alipay/notify`: Alipay's asynchronous payment notification. The raw body is kept (the
 * signature covers the values as sent, in their charset), verified by the gateway layer, then
 * handed to Temporal; `success` is answered only after Temporal accepted the signal. Forged or
 * malformed bodies are refused without touching Temporal. Logs name the trade, never the sign.
 */
export async function notifyRoute(app: FastifyInstance, o: NotifyRouteOptions): Promise<void> {
  // Raw bytes for this route only (its own encapsulated scope): no form parsing before verifying.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
  app.setErrorHandler((err: Error & { statusCode?: number; code?: string }, req, reply) => {
    const status = err.statusCode && err.statusCode < 500 ? err.statusCode : 500;
    const reason = status === 413 ? 'TOO_LARGE' : status < 500 ? 'MALFORMED' : 'INTERNAL';
    o.metrics?.notificationRejected(reason);
    req.log[status < 500 ? 'warn' : 'error']({ reason, err: err.message }, 'notification refused');
    return reply.code(status).type('text/plain').send(RETRY_PLEASE);
  });

  app.post('/alipay/notify', { bodyLimit: o.maxBytes }, async (req, reply) => {
    const started = performance.now();
    o.metrics?.notificationReceived();
    const refuse = (status: number, reason: string, detail: string) => {
      o.metrics?.notificationRejected(reason);
      req.log.warn({ reason, detail }, 'notification refused');
      return reply.code(status).type('text/plain').send(RETRY_PLEASE);
    };

    const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    let n: PaymentNotification;
    try {
      n = o.gateway.readNotification(body, req.headers['content-type']);
    } catch (err) {
      if (err instanceof NotificationSignatureError) return refuse(403, err.reason, err.message);
      if (err instanceof NotificationFormatError) return refuse(400, err.reason, err.message);
      throw err;
    }
    if (n.partner !== undefined && n.partner !== o.partnerId)
      return refuse(400, 'WRONG_PARTNER', `partner ${n.partner}`);
    if (!n.outTradeNo) return refuse(400, 'MISSING_FIELD', 'out_trade_no is missing');
    o.metrics?.notificationVerified();

    const log = req.log.child({ outTradeNo: n.outTradeNo, notifyId: n.notifyId });
    try {
      const result = await o.intake.forward({ ...n, outTradeNo: n.outTradeNo });
      log.info(
        { outcome: result.outcome, workflowId: result.workflowId, tradeStatus: n.tradeStatus },
        'notification accepted',
      );
    } catch (err) {
      o.metrics?.notificationFailed('TEMPORAL');
      log.error(
        { err: err instanceof Error ? err.message : String(err) },
        'notification not taken; Alipay will retry',
      );
      return reply.code(503).type('text/plain').send(RETRY_PLEASE);
    }
    o.metrics?.notificationAcknowledged((performance.now() - started) / 1000);
    return reply.code(200).type('text/plain').send(NOTIFICATION_ACK);
  });
}
