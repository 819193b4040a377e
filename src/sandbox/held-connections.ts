import type { Socket } from 'node:net';

/**
 * Connections and waits that fault injection keeps open on purpose (a hanging gateway, a slow
 * answer). The sandbox's `close()` ends them all, so a test that injected a hang still leaves
 * no open handle behind.
 */
export class HeldConnections {
  private readonly sockets = new Map<Socket, NodeJS.Timeout | undefined>();
  private readonly sleepers = new Set<{ timer: NodeJS.Timeout; wake: () => void }>();
  private closed = false;

  /** Keeps `socket` open without answering; destroys it after `ms` (or at close). */
  hold(socket: Socket, ms: number | undefined): void {
    if (this.closed) {
      socket.destroy();
      return;
    }
    const timer = ms === undefined ? undefined : setTimeout(() => this.release(socket), ms);
    this.sockets.set(socket, timer);
    socket.once('close', () => {
      const t = this.sockets.get(socket);
      if (t) clearTimeout(t);
      this.sockets.delete(socket);
    });
  }

  /** Waits `ms`; resolves early (with false) when the sandbox closes. */
  sleep(ms: number): Promise<boolean> {
    if (this.closed) return Promise.resolve(false);
    return new Promise((resolve) => {
      const entry = {
        timer: setTimeout(() => {
          this.sleepers.delete(entry);
          resolve(true);
        }, ms),
        wake: () => resolve(false),
      };
      this.sleepers.add(entry);
    });
  }

  /** Destroys every held socket and wakes every sleeper. */
  closeAll(): void {
    this.closed = true;
    for (const socket of [...this.sockets.keys()]) this.release(socket);
    for (const s of this.sleepers) {
      clearTimeout(s.timer);
      s.wake();
    }
    this.sleepers.clear();
  }

  private release(socket: Socket): void {
    const t = this.sockets.get(socket);
    if (t) clearTimeout(t);
    this.sockets.delete(socket);
    socket.destroy();
  }
}
