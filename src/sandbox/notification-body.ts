import type { Charset } from '../alipay/charset';
import { parseForm } from '../alipay/form';
import { buildNotificationBody } from '../alipay/notification';
import type { Signer } from '../alipay/signing';

/** A notification ready for the wire, plus the signed fields for inspection. */
export interface SignedNotification {
  readonly body: Buffer;
  readonly fields: Record<string, string>;
  readonly contentType: string;
}

/**
 * Signs and encodes notification fields with the gateway layer's `buildNotificationBody` (the
 * same code the tests use), and reads the signed fields back for `GET /sandbox/notifications`.
 */
export function signedNotification(
  fields: Record<string, string>,
  signer: Signer,
  charset: Charset,
): SignedNotification {
  const body = buildNotificationBody(fields, signer, charset);
  return {
    body,
    fields: { ...parseForm(body, charset) },
    contentType: `application/x-www-form-urlencoded; charset=${charset}`,
  };
}
