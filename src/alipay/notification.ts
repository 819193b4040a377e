import { DEFAULT_CHARSET, charsetFromContentType, type Charset } from './charset';
import {
  CharsetError,
  MalformedFormError,
  NotificationFormatError,
  NotificationSignatureError,
} from './errors';
import { encodeForm, parseForm, type FormFields } from './form';
import type { Params, SignType, Signer } from './signing';
import { notificationFromFields } from './transformers';
import type { PaymentNotification } from './types';

/**
 * Alipay's asynchronous payment notification (MAPI.md §4.6, §12): read from the RAW body bytes
 * in the declared charset, verify over the raw values, map to the domain. And the mirror image,
 * {@link buildNotificationBody}, which the sandbox and tests use to send real signed ones.
 */

/** Default cap on a notification body. Real ones are well under 2 KiB. */
export const DEFAULT_MAX_NOTIFICATION_BYTES = 64 * 1024;

/** The exact acknowledgement Alipay expects once a notification is durably accepted. */
export const NOTIFICATION_ACK = 'success';

/** Where the body's charset comes from. */
export interface NotificationBodyOptions {
  /** The request's `Content-Type`; its `charset` parameter wins when present. */
  readonly contentType?: string;
  /** Configured notification charset (`notify_charset`), used when the header declares none. */
  readonly charset?: Charset;
  readonly maxBytes?: number;
}

/** A decoded, not yet verified, notification form. */
export interface NotificationForm {
  readonly fields: FormFields;
  readonly charset: Charset;
}

function formError(err: unknown): never {
  if (err instanceof MalformedFormError) {
    const reason =
      err.reason === 'CHARSET' || err.reason === 'DUPLICATE_FIELD'
        ? err.reason
        : err.reason === 'TOO_MANY_FIELDS'
          ? 'TOO_LARGE'
          : 'MALFORMED_ENCODING';
    throw new NotificationFormatError(reason, err.message, err.field);
  }
  if (err instanceof CharsetError) throw new NotificationFormatError('CHARSET', err.message);
  throw err;
}

/**
 * Decodes a notification body (`application/x-www-form-urlencoded`) from its raw bytes. Keeps
 * every field; refuses duplicated names, malformed escapes, bytes invalid in the declared
 * charset and oversized bodies with {@link NotificationFormatError}.
 */
export function parseNotificationBody(
  body: Uint8Array,
  options: NotificationBodyOptions = {},
): NotificationForm {
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_NOTIFICATION_BYTES;
  if (body.byteLength === 0) throw new NotificationFormatError('EMPTY', 'empty body');
  if (body.byteLength > maxBytes)
    throw new NotificationFormatError('TOO_LARGE', `over ${maxBytes} bytes`);
  try {
    const charset =
      charsetFromContentType(options.contentType) ?? options.charset ?? DEFAULT_CHARSET;
    return { fields: parseForm(body, charset), charset };
  } catch (err) {
    return formError(err);
  }
}

/**
 * Verifies a decoded notification with `signer` over the raw values (every field except `sign`
 * and `sign_type`, empty ones dropped), hashing in the body's charset. The notification's
 * `sign_type` must be the signer's (absent is tolerated). A base64 `sign` whose `+` became a
 * space is repaired. Returns the sign type; throws {@link NotificationSignatureError}.
 */
export function verifyNotification(form: NotificationForm, signer: Signer): SignType {
  const { fields, charset } = form;
  const notifyId = fields['notify_id'] || undefined;
  const sign = fields['sign'];
  if (sign === undefined || sign === '')
    throw new NotificationSignatureError('MISSING_SIGN', notifyId);
  const declared = fields['sign_type'];
  if (declared !== undefined && declared !== '' && declared.toUpperCase() !== signer.signType) {
    throw new NotificationSignatureError('SIGN_TYPE_MISMATCH', notifyId);
  }
  const repaired = signer.signType === 'MD5' ? sign : sign.replace(/ /g, '+');
  let ok: boolean;
  try {
    ok = signer.verify(fields, repaired, charset);
  } catch (err) {
    if (err instanceof CharsetError) throw new NotificationFormatError('CHARSET', err.message);
    throw err;
  }
  if (!ok) throw new NotificationSignatureError('BAD_SIGNATURE', notifyId);
  return signer.signType;
}

/** Options of {@link readNotification}. */
export interface ReadNotificationOptions extends NotificationBodyOptions {
  /** Verifies Alipay's signature (engine: MD5 key, or Alipay's public key). */
  readonly signer: Signer;
}

/**
 * Parse + verify + map in one call: the raw body of `POST /alipay/notify` to a
 * {@link PaymentNotification}. A `notify_id` is required (dedupe key, `notify_verify`).
 * Business checks (partner, amount, QUERY) are the caller's, MAPI.md §12.5.
 */
export function readNotification(
  body: Uint8Array,
  options: ReadNotificationOptions,
): PaymentNotification {
  const form = parseNotificationBody(body, options);
  const signType = verifyNotification(form, options.signer);
  const notifyId = form.fields['notify_id'];
  if (notifyId === undefined || notifyId === '') {
    throw new NotificationFormatError('MISSING_FIELD', 'notify_id is missing', 'notify_id');
  }
  return notificationFromFields(form.fields, form.charset, signType, notifyId);
}

/**
 * Builds a signed notification body as Alipay sends it: the given fields in order (empty
 * strings kept on the wire, not signed), then `sign_type` and `sign`, form-encoded in `charset`
 * (space as `+`, `%XX` of the charset's bytes). Any `sign` / `sign_type` in `fields` is replaced.
 */
export function buildNotificationBody(
  fields: Params,
  signer: Signer,
  charset: Charset = DEFAULT_CHARSET,
): Buffer {
  const pairs: [string, string][] = [];
  for (const [k, v] of Object.entries(fields)) {
    if (k === 'sign' || k === 'sign_type' || v === undefined || v === null) continue;
    pairs.push([k, v]);
  }
  const sign = signer.sign(fields, charset);
  pairs.push(['sign_type', signer.signType], ['sign', sign]);
  return Buffer.from(encodeForm(pairs, charset), 'latin1');
}
