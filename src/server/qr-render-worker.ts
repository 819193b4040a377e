import QRCode from 'qrcode';

/**
 * Runs in a worker thread (see `QrRenderer`): drawing a large PNG takes about a second of CPU,
 * which must never stall the event loop that acknowledges Alipay's notifications.
 */
export interface QrRenderTask {
  content: string;
  format: 'png' | 'svg';
  /** Width in pixels (PNG; SVG scales). */
  size: number;
}

/** Error correction M: survives a worn sticker, stays easy to scan from a phone. */
export async function renderQr({ content, format, size }: QrRenderTask): Promise<Uint8Array> {
  const options = { errorCorrectionLevel: 'M' as const, margin: 4, width: size };
  if (format === 'png') return QRCode.toBuffer(content, { ...options, type: 'png' });
  return Buffer.from(await QRCode.toString(content, { ...options, type: 'svg' }), 'utf8');
}

export default renderQr;
