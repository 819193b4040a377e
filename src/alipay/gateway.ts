import type { Dispatcher } from 'undici';
import { assertAnswerMatchesRequest, assertSuccessBelongsToRequest } from './binding';
import { assertBusinessSuccess, gatewayFailure } from './classify';
import {
  AlipayResponseError,
  AlipayResponseMismatchError,
  AlipaySignatureError,
  MalformedXmlError,
  type AlipayErrorContext,
} from './errors';
import type { FormFields } from './form';
import {
  resolveGatewayConfig,
  signerFromConfig,
  type GatewayConfig,
  type ResolvedGatewayConfig,
} from './gateway-config';
import { selfTestSigner } from './keys';
import { readNotification } from './notification';
import {
  buildCancel,
  buildCreateQrCode,
  buildModifyQrCode,
  buildNotifyVerify,
  buildQuery,
  buildRefund,
  buildSetQrCodeStatus,
  type RequestContext,
  type SignedRequest,
} from './requests';
import { SERVICES, isMoneyMoving, shortServiceName, type ServiceName } from './services';
import type { Signer } from './signing';
import {
  cancelResultFrom,
  qrCodeResultFrom,
  refundResultFrom,
  tradeQueryFrom,
} from './transformers';
import { GatewayTransport, toWire, type CallOptions } from './transport';
import type {
  CancelResult,
  PaymentNotification,
  QrCodeInput,
  QrCodeResult,
  QrCodeStatusChange,
  QrCodeStatusResult,
  RefundInput,
  RefundResult,
  TradeQueryResult,
  TradeRef,
} from './types';
import { parseGatewayXml, verifyGatewayEnvelope } from './xml';

export type { GatewayConfig, ResolvedGatewayConfig } from './gateway-config';

/** Collaborators a test (or a shared runtime) may inject. */
export interface GatewayDeps {
  /** undici dispatcher: a MockAgent in tests, or a shared Agent. Default: an own keep-alive Agent. */
  readonly dispatcher?: Dispatcher;
  /** Clock for `timestamp` parameters (epoch ms). Default `Date.now`. */
  readonly now?: () => number;
  /**
   * Told once per call (every service, `notify_verify` included) how it ended and how long it
   * took, e.g. for metrics. Called synchronously after the call; whatever it throws is ignored.
   */
  readonly observe?: (call: GatewayCallRecord) => void;
}

/** One finished gateway call, as {@link GatewayDeps.observe} receives it. */
export interface GatewayCallRecord {
  /** Short service name: `CREATE`, `MODIFY`, `MODIFYSTATUS`, `QUERY`, `CANCEL`, `REFUND`, `NOTIFY_VERIFY`. */
  readonly service: string;
  /**
   * `ok`, or the `code` of the error the caller got (`ALIPAY_TIMEOUT`, `ALIPAY_BUSINESS_FAILED`,
   * `ALIPAY_INVALID_REQUEST` for an input refused before sending, …); `ERROR` for an error
   * without a code.
   */
  readonly outcome: string;
  /** Wall time of the whole call (building, HTTP, checking the answer), in seconds. */
  readonly seconds: number;
}

/**
 * The Alipay MAPI gateway client: domain-named methods in, domain results out, every failure a
 * typed {@link AlipayServiceError}. Built once at start-up; the constructor validates the config
 * and self-tests the keys, so a misconfiguration fails the process, not the first payment.
 * No retries here: repeat a call with the same inputs to retry it (same IDs, same business
 * parameters).
 */
export class AlipayGateway {
  /** The validated configuration, without key material. */
  readonly config: ResolvedGatewayConfig;
  readonly #signer: Signer;
  readonly #transport: GatewayTransport;
  readonly #requests: RequestContext;
  readonly #observe: ((call: GatewayCallRecord) => void) | undefined;

  constructor(config: GatewayConfig, deps: GatewayDeps = {}) {
    this.config = resolveGatewayConfig(config);
    this.#signer = signerFromConfig(config);
    selfTestSigner(this.#signer);
    this.#transport = new GatewayTransport({
      connectTimeoutMs: this.config.connectTimeoutMs,
      readTimeoutMs: this.config.readTimeoutMs,
      maxResponseBytes: this.config.maxResponseBytes,
      dispatcher: deps.dispatcher,
    });
    this.#requests = {
      partner: this.config.partner,
      charset: this.config.charset,
      signer: this.#signer,
      notifyUrl: this.config.notifyUrl,
      now: deps.now ?? Date.now,
      cancelTimestamp: this.config.cancelTimestampFormat,
      refundReasonField: this.config.refundReasonField,
      signNotifyVerify: this.config.signNotifyVerify,
    };
    this.#observe = deps.observe;
  }

  /** CREATE (get-or-create) the code of a store. Safe to retry. */
  async createQrCode(input: QrCodeInput, call?: CallOptions): Promise<QrCodeResult> {
    return this.#observed(SERVICES.CREATE, async () => {
      const req = buildCreateQrCode(input, this.#requests);
      return qrCodeResultFrom(await this.#exchange(req, call), undefined, context(req));
    });
  }

  /** MODIFY a code: sends the complete data set. */
  async modifyQrCode(
    qrcode: string,
    input: QrCodeInput,
    call?: CallOptions,
  ): Promise<QrCodeResult> {
    return this.#observed(SERVICES.MODIFY, async () => {
      const req = buildModifyQrCode(qrcode, input, this.#requests);
      return qrCodeResultFrom(await this.#exchange(req, call), qrcode, context(req));
    });
  }

  /** MODIFYSTATUS: STOP, RESTART or DELETE (terminal) a code. */
  async setQrCodeStatus(
    qrcode: string,
    status: QrCodeStatusChange,
    call?: CallOptions,
  ): Promise<QrCodeStatusResult> {
    return this.#observed(SERVICES.MODIFYSTATUS, async () => {
      const req = buildSetQrCodeStatus(qrcode, status, this.#requests);
      const result = qrCodeResultFrom(await this.#exchange(req, call), qrcode, context(req));
      return { qrcode: result.qrcode, status };
    });
  }

  /** QUERY a trade: status, amount and currency as Alipay has them. Read-only. */
  async queryTrade(ref: TradeRef, call?: CallOptions): Promise<TradeQueryResult> {
    return this.#observed(SERVICES.QUERY, async () => {
      const req = buildQuery(ref, this.#requests);
      return tradeQueryFrom(await this.#exchange(req, call), ref, context(req));
    });
  }

  /** CANCEL a trade (same GMT+8 day): closes an unpaid trade or fully reverses a paid one. */
  async cancelTrade(ref: TradeRef, call?: CallOptions): Promise<CancelResult> {
    return this.#observed(SERVICES.CANCEL, async () => {
      const req = buildCancel(ref, this.#requests);
      return cancelResultFrom(await this.#exchange(req, call), ref, resultContext(req));
    });
  }

  /** REFUND (full or partial), synchronous; retry only with the same `refundId`. */
  async refund(input: RefundInput, call?: CallOptions): Promise<RefundResult> {
    return this.#observed(SERVICES.REFUND, async () => {
      const req = buildRefund(input, this.#requests);
      return refundResultFrom(await this.#exchange(req, call), input, resultContext(req));
    });
  }

  /** `notify_verify`: true when Alipay confirms it sent the notification with this ID. */
  async verifyNotifyId(notifyId: string, call?: CallOptions): Promise<boolean> {
    return this.#observed(SERVICES.NOTIFY_VERIFY, async () => {
      const req = buildNotifyVerify(notifyId, this.#requests);
      const ctx = context(req);
      const answer = await this.#transport.send(this.#wire(req), ctx, call);
      const text = answer.body.toString('latin1').trim();
      if (text === 'true') return true;
      if (text === 'false') return false;
      if (text.startsWith('<')) {
        const envelope = this.#parse(answer.body, answer.contentType, ctx);
        if (!envelope.isSuccess) throw gatewayFailure(envelope.error, ctx);
      }
      throw new AlipayResponseError('notify_verify answered neither true nor false', {
        ...ctx,
        causeMessage: text.slice(0, 40),
      });
    });
  }

  /**
   * Reads and verifies a notification body with this gateway's keys (charset from the
   * `Content-Type`, else the configured notification charset). See `readNotification`.
   */
  readNotification(body: Uint8Array, contentType?: string): PaymentNotification {
    return readNotification(body, {
      signer: this.#signer,
      contentType,
      charset: this.config.notificationCharset,
    });
  }

  /** Releases pooled connections (an injected dispatcher is left to its owner). */
  async close(): Promise<void> {
    await this.#transport.close();
  }

  /** Runs one call and tells the observer (if any) how it ended; the observer cannot break it. */
  async #observed<T>(service: ServiceName, fn: () => Promise<T>): Promise<T> {
    const observe = this.#observe;
    if (!observe) return fn();
    const started = performance.now();
    let outcome = 'ok';
    try {
      return await fn();
    } catch (err) {
      outcome = outcomeOf(err);
      throw err;
    } finally {
      const seconds = (performance.now() - started) / 1000;
      try {
        observe({ service: shortServiceName(service) ?? service, outcome, seconds });
      } catch {
        // An observer's failure is its own: the call's result stands.
      }
    }
  }

  #wire(req: SignedRequest) {
    return toWire(req, this.config.gatewayUrl, this.config.method, this.config.charset);
  }

  #parse(body: Buffer, contentType: string | undefined, ctx: AlipayErrorContext) {
    try {
      return parseGatewayXml(body, {
        charset: this.config.charset,
        contentType,
        maxBytes: this.config.maxResponseBytes,
      });
    } catch (err) {
      if (err instanceof MalformedXmlError) {
        throw new AlipayResponseError(`unreadable answer (${err.reason})`, {
          ...ctx,
          causeCode: err.reason,
          outcomeUnknown: isMoneyMoving(ctx.service),
        });
      }
      throw err;
    }
  }

  /** Send, parse, authenticate, check the echo and the outcome; returns the business fields. */
  async #exchange(req: SignedRequest, call: CallOptions | undefined): Promise<FormFields> {
    const ctx = context(req);
    const answer = await this.#transport.send(this.#wire(req), ctx, call);
    const envelope = this.#parse(answer.body, answer.contentType, ctx);
    // An F answer is never success; its signature is not required (MAPI.md §4.5).
    if (!envelope.isSuccess) throw gatewayFailure(envelope.error, ctx);
    const unknown = isMoneyMoving(req.service);
    if (!envelope.business) {
      throw new AlipayResponseError('answer has no business node', {
        ...ctx,
        outcomeUnknown: unknown,
      });
    }
    if (!verifyGatewayEnvelope(envelope, this.#signer)) {
      const why =
        envelope.sign === undefined ? 'answer is not signed' : 'answer signature does not verify';
      throw new AlipaySignatureError(why, { ...ctx, outcomeUnknown: unknown });
    }
    const echoedService = envelope.request['service'];
    if (echoedService !== undefined && echoedService !== req.service) {
      throw new AlipayResponseMismatchError(`answer echoes service ${echoedService.slice(0, 64)}`, {
        ...ctx,
        outcomeUnknown: unknown,
      });
    }
    const echoedPartner = envelope.request['partner'];
    if (echoedPartner !== undefined && echoedPartner !== this.config.partner) {
      throw new AlipayResponseMismatchError('answer echoes another partner', {
        ...ctx,
        outcomeUnknown: unknown,
      });
    }
    assertAnswerMatchesRequest(req, envelope.business, ctx);
    assertBusinessSuccess(envelope.business, ctx);
    assertSuccessBelongsToRequest(req, envelope.business, ctx);
    return envelope.business;
  }
}

/** The error's stable `code` (every engine error has one), else `ERROR`. */
function outcomeOf(err: unknown): string {
  const code = (err as { code?: unknown } | null | undefined)?.code;
  return typeof code === 'string' && code !== '' ? code.slice(0, 64) : 'ERROR';
}

function context(req: SignedRequest): AlipayErrorContext {
  return { service: req.service, ids: req.ids };
}

/**
 * Context for reading a SUCCESS answer: a CANCEL or REFUND that Alipay reports done has moved
 * money, so whatever goes wrong reading the rest leaves the outcome unknown, never "refused".
 */
function resultContext(req: SignedRequest): AlipayErrorContext {
  return { ...context(req), outcomeUnknown: isMoneyMoving(req.service) };
}
