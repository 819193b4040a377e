import type { FastifyBaseLogger, FastifyInstance, RawServerDefault } from 'fastify';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { PaymentEngineClient } from '../client';
import type { QrRenderer } from './qr-image';
import type { ScopeGuard } from './scope';

/** What the merchant API's routes work with. */
export interface ApiContext {
  engine: PaymentEngineClient;
  scope: ScopeGuard;
  qr: QrRenderer;
  /** Largest QR picture drawn, in pixels. */
  qrMaxSize: number;
}

/** A Fastify scope whose routes infer their types from the declared TypeBox schemas. */
export type TypedApp = FastifyInstance<
  RawServerDefault,
  IncomingMessage,
  ServerResponse,
  FastifyBaseLogger,
  TypeBoxTypeProvider
>;
