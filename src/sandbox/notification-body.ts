import { randomBytes } from 'node:crypto';
import { normalizeCharset, type Charset } from '../alipay/charset';
import { encodeForm, parseForm } from '../alipay/form';
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

/**
 * A forged copy of a signed notification (fields as sent): another `notify_id` and a
 * well-shaped but wrong signature. Used for the `forge` fault of a notification restored from
 * the state file, whose signer closure did not survive the restart.
 */
export function forgedCopy(
  fields: Readonly<Record<string, string>>,
  contentType: string,
  notifyId: string,
): Buffer {
  let charset: Charset = 'UTF-8';
  try {
    charset = normalizeCharset(/charset=([^;]+)/i.exec(contentType)?.[1] ?? 'UTF-8');
  } catch {
    // keep UTF-8
  }
  const sign =
    fields.sign_type === 'MD5'
      ? randomBytes(16).toString('hex')
      : randomBytes(256).toString('base64');
  return Buffer.from(
    encodeForm(Object.entries({ ...fields, notify_id: notifyId, sign }), charset),
    'latin1',
  );
}
