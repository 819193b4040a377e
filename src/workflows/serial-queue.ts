/**
 * Runs async tasks one at a time, in the order they were queued (a workflow-safe mutex: plain
 * promises, deterministic on replay). Update handlers that move money go through one of these,
 * so Alipay never sees two REFUND/CANCEL calls of one payment at once.
 */
export class SerialQueue {
  private tail: Promise<unknown> = Promise.resolve();
  private queued = 0;

  /** True when no task is queued or running. */
  get idle(): boolean {
    return this.queued === 0;
  }

  run<T>(task: () => Promise<T>): Promise<T> {
    this.queued += 1;
    const result = this.tail.then(task);
    this.tail = result.then(
      () => undefined,
      () => undefined,
    );
    return result.finally(() => {
      this.queued -= 1;
    });
  }
}
