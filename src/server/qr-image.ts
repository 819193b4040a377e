import path from 'node:path';
import { Piscina } from 'piscina';
import { EngineUnavailableError } from '../client-errors';
import type { QrRenderTask } from './qr-render-worker';

/**
 * The printable picture of a store's code, drawn locally from its content (`https://qr.alipay.com/…`)
 * so that printing never depends on Alipay's image host. Drawing happens in worker threads, with
 * a bounded queue (a flood of large renders answers 503, it does not pile up) and a small cache
 * of recent pictures (a till that prints twice pays once).
 */
export type QrImageFormat = QrRenderTask['format'];

export const QR_IMAGE_CONTENT_TYPES: Record<QrImageFormat, string> = {
  png: 'image/png',
  svg: 'image/svg+xml',
};

export interface QrRendererOptions {
  threads: number;
  /** Renders waiting for a thread before new ones are refused. Default 32. */
  maxQueue?: number;
  /** Pictures kept, and their total size. Defaults: 64 and 32 MiB. */
  cacheEntries?: number;
  cacheBytes?: number;
}

export class QrRenderer {
  readonly #pool: Piscina<QrRenderTask, Uint8Array>;
  readonly #cache = new Map<string, Buffer>();
  readonly #inFlight = new Map<string, Promise<Buffer>>();
  readonly #maxEntries: number;
  readonly #maxBytes: number;
  #bytes = 0;

  constructor(options: QrRendererOptions) {
    this.#pool = new Piscina({
      filename: path.join(__dirname, 'qr-render-worker.ts'),
      name: 'renderQr',
      minThreads: 1,
      maxThreads: options.threads,
      maxQueue: options.maxQueue ?? 32,
      // Workers load TypeScript the way this process does (tsx registered through execArgv).
      execArgv: process.execArgv,
      idleTimeout: 60_000,
    });
    this.#maxEntries = options.cacheEntries ?? 64;
    this.#maxBytes = options.cacheBytes ?? 32 * 1024 * 1024;
  }

  /** The picture; `EngineUnavailableError` (503) when too many renders are waiting. */
  async render(task: QrRenderTask): Promise<Buffer> {
    const key = `${task.format}:${task.size}:${task.content}`;
    const hit = this.#cache.get(key);
    if (hit) {
      this.#cache.delete(key); // most recently used goes last
      this.#cache.set(key, hit);
      return hit;
    }
    let pending = this.#inFlight.get(key);
    if (!pending) {
      pending = this.#draw(task)
        .then((image) => {
          this.#keep(key, image);
          return image;
        })
        .finally(() => this.#inFlight.delete(key));
      this.#inFlight.set(key, pending);
    }
    return pending;
  }

  async close(): Promise<void> {
    await this.#pool.close({ force: true });
  }

  async #draw(task: QrRenderTask): Promise<Buffer> {
    try {
      const out = await this.#pool.run(task);
      return Buffer.from(out.buffer, out.byteOffset, out.byteLength);
    } catch (err) {
      if (err instanceof Error && /queue is at limit/i.test(err.message))
        throw new EngineUnavailableError('too many QR pictures are being drawn; retry shortly');
      throw err;
    }
  }

  #keep(key: string, image: Buffer): void {
    if (image.length > this.#maxBytes / 4) return;
    this.#cache.set(key, image);
    this.#bytes += image.length;
    for (const [oldKey, old] of this.#cache) {
      if (this.#cache.size <= this.#maxEntries && this.#bytes <= this.#maxBytes) break;
      this.#cache.delete(oldKey);
      this.#bytes -= old.length;
    }
  }
}
