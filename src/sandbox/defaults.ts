/**
 * The sandbox's embedded defaults, shared with the engine's config so that `npm start` works
 * out of the box: the engine signs with the same MADE-UP partner and MD5 key that the sandbox
 * verifies with.
 *
 * The key is the MADE-UP test key of `alipay/MAPI.md` §4.8; it protects nothing and must never
 * be used against a real gateway.
 */

/** Partner ID of the default sandbox partner (MADE-UP, MAPI.md §3). */
export const DEFAULT_SANDBOX_PARTNER = '2088101122136241';

/** MD5 key of the default sandbox partner (MADE-UP, MAPI.md §4.8). */
export const DEFAULT_SANDBOX_MD5_KEY = 'mk1x9sdm2qv8t0rbz7yh3c5lw4jf6pe0';

/** Interface the sandbox listens on: loopback only, it is a development peer. */
export const DEFAULT_SANDBOX_HOST = '127.0.0.1';

/** Port used by `npm run sandbox` when `SANDBOX_PORT` is unset (tests use port 0). */
export const DEFAULT_SANDBOX_PORT = 8710;

/** Path of the MAPI gateway on the sandbox, as on the real hosts. */
export const GATEWAY_PATH = '/gateway.do';

/**
 * Validity window of a request `timestamp` (MAPI.md §5.1: "expires after 30 minutes").
 * Applied in both directions (a timestamp 31 minutes in the future is refused too) [R].
 */
export const DEFAULT_TIMESTAMP_WINDOW_MS = 30 * 60 * 1000;

/**
 * Refund period of a paid trade. Not stated in the readable sources (it depends on the
 * contract, MAPI.md §11.1) [R]; 90 days is a common acquiring contract term.
 */
export const DEFAULT_REFUND_PERIOD_MS = 90 * 24 * 60 * 60 * 1000;

/** An unpaid trade is closed after this long (MAPI.md §9.3: "e.g. 3 minutes"). */
export const DEFAULT_UNPAID_TIMEOUT_MS = 3 * 60 * 1000;

/**
 * Gaps between notification deliveries: the first delivery is immediate, then these gaps,
 * 8 deliveries in about 25 hours (MAPI.md §12.2, the product pages' variant).
 */
export const DEFAULT_NOTIFY_RETRY_GAPS_MS: readonly number[] = Object.freeze([
  2 * 60_000,
  10 * 60_000,
  10 * 60_000,
  60 * 60_000,
  2 * 60 * 60_000,
  6 * 60 * 60_000,
  15 * 60 * 60_000,
]);

/** How long one notification delivery may take before it counts as failed [R]. */
export const DEFAULT_NOTIFY_TIMEOUT_MS = 15_000;

/** Port of the sandbox's SFTP server (reconciliation files) for `npm run sandbox` / `npm start`. */
export const DEFAULT_SANDBOX_SFTP_PORT = 8722;

/** The sandbox's SFTP account (MADE-UP; a real one comes from Alipay with the contract). */
export const DEFAULT_SANDBOX_SFTP_USERNAME = 'alipay-sandbox';
export const DEFAULT_SANDBOX_SFTP_PASSWORD = 'sandbox-sftp-password';

/** Remote directory the daily files appear in [R]. */
export const DEFAULT_SANDBOX_SFTP_DIRECTORY = '/download';
