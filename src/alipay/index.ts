/**
 * Public surface of the Alipay MAPI gateway layer. Everything above `src/alipay` imports from
 * here and speaks domain types; MAPI field names stay inside this folder.
 */
export { AlipayGateway, type GatewayCallRecord, type GatewayDeps } from './gateway';
export {
  GATEWAY_URLS,
  resolveGatewayConfig,
  signerFromConfig,
  type GatewayConfig,
  type ResolvedGatewayConfig,
} from './gateway-config';
export type { CallOptions } from './transport';
export * from './types';
export * from './errors';
export {
  SERVICES,
  isMoneyMoving,
  shortServiceName,
  type ServiceName,
  type ShortServiceName,
} from './services';
export {
  DEFAULT_CHARSET,
  decode,
  encode,
  normalizeCharset,
  charsetFromContentType,
  type Charset,
} from './charset';
export {
  createMd5Signer,
  createRsaSigner,
  isSignType,
  preSignString,
  type Params,
  type RsaSignerOptions,
  type SignType,
  type Signer,
} from './signing';
export {
  loadPrivateKey,
  loadPublicKey,
  selfTestSigner,
  type KeyInput,
  type SignerKeyInfo,
} from './keys';
export { encodeForm, parseForm, type FormFields } from './form';
export {
  DEFAULT_MAX_XML_BYTES,
  parseGatewayXml,
  renderGatewayResponse,
  signedContent,
  verifyGatewayEnvelope,
  type GatewayEnvelope,
  type GatewayResponseSpec,
} from './xml';
export {
  NOTIFICATION_ACK,
  buildNotificationBody,
  parseNotificationBody,
  readNotification,
  verifyNotification,
  type NotificationForm,
  type ReadNotificationOptions,
} from './notification';
export { FINAL_BUSINESS_CODES, FINAL_GATEWAY_CODES, SYSTEM_CODES } from './classify';
export { parseAlipayAmount } from './transformers';
export { validateQrCodeInput } from './requests';
