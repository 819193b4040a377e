import { AlipayGateway, type GatewayConfig } from '../../src/alipay';
import type { QrCodeInput } from '../../src/alipay/types';
import type { Sandbox } from '../../src/sandbox';
import { MD5_KEY, PARTNER } from './support';

/** The engine's gateway client, pointed at a sandbox and following the sandbox clock. */
export function gatewayFor(
  sandbox: Sandbox,
  overrides: Partial<GatewayConfig> = {},
  now?: () => number,
): AlipayGateway {
  return new AlipayGateway(
    {
      gatewayUrl: sandbox.gatewayUrl,
      partner: PARTNER,
      signType: 'MD5',
      md5Key: MD5_KEY,
      readTimeoutMs: 2000,
      ...overrides,
    } as GatewayConfig,
    { now: now ?? (() => sandbox.clock.now()) },
  );
}

/** A store's code data in domain terms. */
export function storeInput(storeId: string, extra: Partial<QrCodeInput> = {}): QrCodeInput {
  return {
    secondaryMerchantId: 'M0001',
    secondaryMerchantName: 'Demo Cafe',
    merchantCategoryCode: '5812',
    storeId,
    storeName: `Demo Cafe ${storeId}`,
    pricingCurrency: 'USD',
    settlementCurrency: 'USD',
    ...extra,
  };
}
