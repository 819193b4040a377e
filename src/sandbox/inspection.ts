import { formatGmt8 } from '../time';
import type { SandboxCore } from './core';
import {
  codeView,
  faultView,
  notificationView,
  refundView,
  tradeView,
  type TradeView,
} from './views';
import type { Trade } from './state/trades';

/**
 * Read-only views of a sandbox's state for tests, the demo and `GET /sandbox/*`. Statuses are
 * computed at the sandbox clock's "now", so a trade past its refund period shows
 * `TRADE_FINISHED` without anything having run.
 */
export class SandboxInspector {
  constructor(private readonly core: SandboxCore) {}

  trade(trade: Trade): TradeView {
    const notifyIds = this.core.notifier
      .list()
      .filter((n) => n.tradeNo === trade.tradeNo && n.partner === trade.partner)
      .map((n) => n.notifyId);
    return tradeView(trade, this.core.trades.status(trade, this.core.clock.now()), notifyIds);
  }

  trades(): TradeView[] {
    return this.core.trades.trades().map((t) => this.trade(t));
  }

  /** A trade by `trade_no` or `out_trade_no`, any partner. */
  findTrade(id: string): TradeView | undefined {
    const trade = this.core.trades.trades().find((t) => t.tradeNo === id || t.outTradeNo === id);
    return trade && this.trade(trade);
  }

  refunds(): Record<string, unknown>[] {
    return this.core.trades.refunds().map(refundView);
  }

  codes(): Record<string, unknown>[] {
    return this.core.codes.list().map(codeView);
  }

  notifications(): Record<string, unknown>[] {
    return this.core.notifier.list().map(notificationView);
  }

  faults(): Record<string, unknown>[] {
    return this.core.faults.list().map(faultView);
  }

  clock(): { now: number; gmt8: string; iso: string; frozen: boolean } {
    const now = this.core.clock.now();
    return {
      now,
      gmt8: formatGmt8(now),
      iso: new Date(now).toISOString(),
      frozen: this.core.clock.frozen,
    };
  }

  partners(): { partner: string; sign_types: string[]; notify_sign_type: string }[] {
    return this.core.partners.list().map((p) => ({
      partner: p.partner,
      sign_types: [...p.signers.keys()],
      notify_sign_type: p.notifySignType,
    }));
  }

  /** Everything at once: `GET /sandbox/state`. */
  state(): Record<string, unknown> {
    return {
      clock: this.clock(),
      partners: this.partners(),
      codes: this.codes(),
      trades: this.trades(),
      refunds: this.refunds(),
      notifications: this.notifications(),
      faults: this.faults(),
    };
  }
}
