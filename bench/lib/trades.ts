import type { Cluster, PreparedTrade } from './cluster';
import { forEachLimited } from './load';

/**
 * Real sandbox trades waiting to be notified: a customer paid, the sandbox signed the
 * notification, and its body waits here to be POSTed (timed) to the engine's receiver.
 */
export class TradePool {
  readonly #trades: PreparedTrade[] = [];
  #next = 0;

  constructor(
    private readonly cluster: Cluster,
    private readonly qrcodes: readonly string[],
    private readonly amount = '8.80',
  ) {}

  get size(): number {
    return this.#trades.length;
  }

  /** Pays trades at the sandbox (not timed) until `count` are waiting. */
  async fill(count: number): Promise<void> {
    const missing = Math.max(0, count - this.#trades.length);
    const fresh: PreparedTrade[] = [];
    await forEachLimited(Array.from({ length: missing }), 8, async () => {
      const qrcode = this.qrcodes[this.#next++ % this.qrcodes.length] as string;
      fresh.push(await this.cluster.payTrade(qrcode, this.amount));
    });
    this.#trades.push(...fresh);
  }

  take(): PreparedTrade | undefined {
    return this.#trades.shift();
  }
}
