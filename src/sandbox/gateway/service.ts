import type { SandboxCore } from '../core';
import { SERVICES, type ServiceName } from '../service-names';
import type { TimestampFormat } from './checks';
import { create, modify, modifyStatus, qrcodeEcho } from './qrcode-services';
import { cancel, cancelEcho, query, queryEcho, refund, refundEcho } from './trade-services';

/** What a service handler gets: the authenticated partner, the decoded parameters, the time. */
export interface ServiceContext {
  readonly partner: string;
  readonly params: Readonly<Record<string, string>>;
  readonly now: number;
  readonly core: SandboxCore;
}

/** A successful business node: its element name and fields (signed by the answer renderer). */
export interface ServiceResult {
  readonly node: string;
  readonly fields: Record<string, string>;
}

/** How the gateway runs one XML service. */
export interface ServiceSpec {
  /** Parameters that must be present and non-empty (besides service, partner, sign, sign_type). */
  readonly required: readonly string[];
  /** Format of the `timestamp` that is checked against the window, when the service has one. */
  readonly timestamp: TimestampFormat | undefined;
  /** Name of the business node. */
  readonly node: string;
  readonly run: (ctx: ServiceContext) => ServiceResult;
  /** Identifying fields repeated in FAIL / UNKNOWN nodes. */
  readonly echo: (params: Readonly<Record<string, string>>) => Record<string, string>;
  /** True when a FAIL node carries CANCEL's `retry_flag`. */
  readonly retryFlag: boolean;
}

const QR_REQUIRED = ['_input_charset', 'timestamp', 'biz_type'] as const;

/** The six XML services (notify_verify answers text and is handled apart). */
export const SERVICE_SPECS: ReadonlyMap<ServiceName, ServiceSpec> = new Map<
  ServiceName,
  ServiceSpec
>([
  [
    SERVICES.CREATE,
    {
      required: [...QR_REQUIRED, 'biz_data'],
      timestamp: 'gmt8',
      node: 'qrcodeinfo',
      run: create,
      echo: qrcodeEcho,
      retryFlag: false,
    },
  ],
  [
    SERVICES.MODIFY,
    {
      required: [...QR_REQUIRED, 'qrcode', 'biz_data'],
      timestamp: 'gmt8',
      node: 'qrcodeinfo',
      run: modify,
      echo: qrcodeEcho,
      retryFlag: false,
    },
  ],
  [
    SERVICES.MODIFYSTATUS,
    {
      required: [...QR_REQUIRED, 'qrcode', 'status'],
      timestamp: 'gmt8',
      node: 'qrcodeinfo',
      run: modifyStatus,
      echo: qrcodeEcho,
      retryFlag: false,
    },
  ],
  [
    SERVICES.QUERY,
    {
      required: [],
      timestamp: undefined,
      node: 'alipay',
      run: query,
      echo: queryEcho,
      retryFlag: false,
    },
  ],
  [
    SERVICES.CANCEL,
    {
      required: ['_input_charset', 'timestamp', 'out_trade_no'],
      timestamp: 'epoch-ms',
      node: 'alipay',
      run: cancel,
      echo: cancelEcho,
      retryFlag: true,
    },
  ],
  [
    SERVICES.REFUND,
    {
      required: ['partner_trans_id', 'partner_refund_id', 'refund_amount', 'currency'],
      timestamp: undefined,
      node: 'alipay',
      run: refund,
      echo: refundEcho,
      retryFlag: false,
    },
  ],
]);
