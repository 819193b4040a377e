import QRCode from 'qrcode';

/**
 * The printable picture of a store's code, drawn locally from its content (`https://qr.alipay.com/…`)
 * so that printing never depends on Alipay's image host. Error correction M: survives a worn
 * sticker, stays easy to scan from a phone.
 */
export type QrImageFormat = 'png' | 'svg';

export const QR_IMAGE_CONTENT_TYPES: Record<QrImageFormat, string> = {
  png: 'image/png',
  svg: 'image/svg+xml',
};

/** `size` is the picture's width in pixels (PNG; SVG scales), 64..2048. */
export async function renderQrImage(
  content: string,
  format: QrImageFormat,
  size = 512,
): Promise<Buffer> {
  const options = { errorCorrectionLevel: 'M' as const, margin: 4, width: size };
  if (format === 'png') return QRCode.toBuffer(content, { ...options, type: 'png' });
  return Buffer.from(await QRCode.toString(content, { ...options, type: 'svg' }), 'utf8');
}
