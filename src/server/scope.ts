import type { QrCodeInput } from '../alipay';
import type { PaymentEngineClient } from '../client';
import { PaymentNotFoundError, QrCodeNotFoundError } from '../client-errors';
import type { PaymentState } from '../workflows/payment-types';
import type { QrCodeState } from '../workflows/qrcode-types';
import type { ApiKey } from './api-keys';
import { HttpRequestError } from './http-errors';

/** How long a store's secondary merchant is remembered (it cannot change while the code lives). */
const MERCHANT_CACHE_MS = 60_000;
const MERCHANT_CACHE_ENTRIES = 10_000;

/**
 * What a key may touch. A code is in scope when its store or its secondary merchant is listed;
 * a payment when the store it was paid at is in scope. Anything outside answers exactly like
 * something that does not exist (404), so a key learns nothing about other merchants.
 * A payment without a store (a code created outside the engine) is visible to `all` keys only.
 */
export class ScopeGuard {
  readonly #engine: Pick<PaymentEngineClient, 'getCode'>;
  readonly #merchantOfStore = new Map<string, { merchant: string; until: number }>();

  constructor(engine: Pick<PaymentEngineClient, 'getCode'>) {
    this.#engine = engine;
  }

  /** The key may create a code with this data (its store or merchant is in scope). */
  mayCreate(key: ApiKey, info: Pick<QrCodeInput, 'storeId' | 'secondaryMerchantId'>): boolean {
    if (key.scope.kind === 'all') return true;
    return (
      key.scope.stores.includes(info.storeId) ||
      key.scope.secondaryMerchants.includes(info.secondaryMerchantId)
    );
  }

  /** The code as the key may see it; `QrCodeNotFoundError` when it is outside the scope. */
  checkCode(key: ApiKey, code: QrCodeState): QrCodeState {
    if (!this.mayCreate(key, code.info)) {
      throw new QrCodeNotFoundError(code.storeId, code.withFee);
    }
    this.#remember(code.storeId, code.info.secondaryMerchantId);
    return code;
  }

  /**
   * Before a change to a store's code: the code must be in scope (one query, unless the key
   * sees every store or lists this one). `QrCodeNotFoundError` otherwise.
   */
  async checkCodeSlot(key: ApiKey, storeId: string, withFee: boolean): Promise<void> {
    if (key.scope.kind === 'all' || key.scope.stores.includes(storeId)) return;
    if (key.scope.secondaryMerchants.length === 0) throw new QrCodeNotFoundError(storeId, withFee);
    this.checkCode(key, await this.#engine.getCode(storeId, withFee));
  }

  /** The payment as the key may see it; `PaymentNotFoundError` when it is outside the scope. */
  async checkPayment(key: ApiKey, payment: PaymentState): Promise<PaymentState> {
    if (!(await this.allowsStore(key, payment.storeId)))
      throw new PaymentNotFoundError(payment.outTradeNo);
    return payment;
  }

  /** The store's payments may be listed by the key; a 404 otherwise. */
  async checkStore(key: ApiKey, storeId: string): Promise<void> {
    if (!(await this.allowsStore(key, storeId)))
      throw new HttpRequestError(404, 'STORE_NOT_FOUND', `no store ${storeId}`);
  }

  /** The store is in scope: listed, or its code belongs to a listed secondary merchant. */
  async allowsStore(key: ApiKey, storeId: string | undefined): Promise<boolean> {
    if (key.scope.kind === 'all') return true;
    if (storeId === undefined) return false;
    if (key.scope.stores.includes(storeId)) return true;
    if (key.scope.secondaryMerchants.length === 0) return false;
    const merchant = await this.#merchantOf(storeId);
    return merchant !== undefined && key.scope.secondaryMerchants.includes(merchant);
  }

  async #merchantOf(storeId: string): Promise<string | undefined> {
    const cached = this.#merchantOfStore.get(storeId);
    if (cached && cached.until > Date.now()) return cached.merchant;
    for (const withFee of [false, true]) {
      try {
        const code = await this.#engine.getCode(storeId, withFee);
        this.#remember(storeId, code.info.secondaryMerchantId);
        return code.info.secondaryMerchantId;
      } catch (err) {
        if (!(err instanceof QrCodeNotFoundError)) throw err;
      }
    }
    return undefined;
  }

  #remember(storeId: string, merchant: string): void {
    if (this.#merchantOfStore.size >= MERCHANT_CACHE_ENTRIES) this.#merchantOfStore.clear();
    this.#merchantOfStore.set(storeId, { merchant, until: Date.now() + MERCHANT_CACHE_MS });
  }
}
