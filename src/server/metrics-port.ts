/**
 * What the HTTP service records and serves; `EngineMetrics` (src/observability) implements it.
 * A narrow port keeps the routes testable without a metrics registry.
 */
export interface ServerMetrics {
  notificationReceived(): void;
  notificationVerified(): void;
  notificationRejected(reason: string): void;
  notificationAcknowledged(seconds: number): void;
  notificationFailed(reason: string): void;
  httpRequest(route: string, method: string, status: number, seconds: number): void;
  readonly contentType: string;
  render(): Promise<string>;
}
