import { formatMoney } from '../money';
import { AlipayResponseMismatchError, type AlipayErrorContext } from './errors';
import type { FormFields } from './form';
import type { SignedRequest } from './requests';
import { SERVICES, isMoneyMoving, shortServiceName, type ServiceName } from './services';
import { parseAlipayAmount } from './transformers';

/**
 * Does a business node answer THIS request? Only the business node is signed (MAPI.md §4.5):
 * the `<request>` echo is not, so a genuinely signed answer to another call (a QUERY answer
 * for a REFUND, another trade's CANCEL, an older refund) verifies just as well. Each answer
 * must therefore carry what its own service returns and agree with the request on every ID
 * and amount it repeats. Anything else is an {@link AlipayResponseMismatchError}: never
 * success, and for CANCEL / REFUND `outcomeUnknown` (money may have moved under the request
 * that was really sent), never a "refused for sure" error either.
 *
 * A FAIL or UNKNOWN node is bound the same way before it is classified, so a FAIL answer of
 * another refund cannot make this one look refused. An answer that carries no ID at all (a
 * bare `result_code=FAIL` + `error`, as Alipay sends them) cannot be bound by anyone: that is
 * the limit of what MAPI signs.
 */

/** An answer field that repeats a request parameter (same value when both are present). */
type Echo = readonly [answerField: string, requestParam: string];

interface AnswerRule {
  readonly echoes: readonly Echo[];
  /** Fields only other services' answers carry: their presence betrays a foreign answer. */
  readonly foreign: readonly string[];
  /** On success: each group names fields of which at least one must be present. */
  readonly successNeeds: readonly (readonly string[])[];
}

/** QUERY's own: the trade's status and amount. */
const QUERY_ONLY = ['alipay_trans_status', 'trans_amount'];
/** REFUND's own: the refund's ID and amounts. */
const REFUND_ONLY = ['partner_refund_id', 'refund_amount', 'refund_amount_cny'];
/** CANCEL's own: what the cancel did. */
const CANCEL_ONLY = ['action'];
/** The QR-code services' own. */
const QRCODE_ONLY = ['qrcode', 'qrcode_img_url'];

const QRCODE_RULE: AnswerRule = {
  echoes: [['qrcode', 'qrcode']],
  foreign: [...QUERY_ONLY, ...REFUND_ONLY, ...CANCEL_ONLY],
  successNeeds: [['qrcode']],
};

const RULES: ReadonlyMap<ServiceName, AnswerRule> = new Map<ServiceName, AnswerRule>([
  [SERVICES.CREATE, QRCODE_RULE],
  [SERVICES.MODIFY, QRCODE_RULE],
  [SERVICES.MODIFYSTATUS, QRCODE_RULE],
  [
    SERVICES.QUERY,
    {
      echoes: [
        ['partner_trans_id', 'partner_trans_id'],
        // Real QUERY answers repeat the partner's ID as `out_trade_no` too (MAPI.md §9.4).
        ['out_trade_no', 'partner_trans_id'],
        ['alipay_trans_id', 'alipay_trans_id'],
      ],
      foreign: [...REFUND_ONLY, ...CANCEL_ONLY],
      successNeeds: [['partner_trans_id', 'out_trade_no']],
    },
  ],
  [
    SERVICES.CANCEL,
    {
      echoes: [
        ['out_trade_no', 'out_trade_no'],
        ['trade_no', 'trade_no'],
      ],
      foreign: [...QUERY_ONLY, ...REFUND_ONLY, ...QRCODE_ONLY],
      // `action` says what the cancel did; the real 2014 answer (MAPI.md §10.4) has no `action`
      // but CANCEL's own `retry_flag`, which no other answer here carries.
      successNeeds: [
        ['out_trade_no', 'trade_no'],
        ['action', 'retry_flag'],
      ],
    },
  ],
  [
    SERVICES.REFUND,
    {
      echoes: [
        ['partner_trans_id', 'partner_trans_id'],
        ['alipay_trans_id', 'alipay_trans_id'],
        ['partner_refund_id', 'partner_refund_id'],
        ['currency', 'currency'],
        // refund_amount is compared as money (`3.3` = `3.30`), below.
      ],
      foreign: [...QUERY_ONLY, ...CANCEL_ONLY, ...QRCODE_ONLY],
      successNeeds: [['partner_refund_id'], ['refund_amount'], ['partner_trans_id']],
    },
  ],
]);

function present(fields: FormFields, name: string): string | undefined {
  const v = fields[name];
  return v === undefined || v === '' ? undefined : v;
}

function mismatch(why: string, ctx: AlipayErrorContext): AlipayResponseMismatchError {
  return new AlipayResponseMismatchError(why, {
    ...ctx,
    outcomeUnknown: isMoneyMoving(ctx.service),
  });
}

/**
 * Checks, before the outcome is classified, that a business node is not another service's
 * and repeats no ID or amount other than the request's. Throws
 * {@link AlipayResponseMismatchError}.
 */
export function assertAnswerMatchesRequest(
  req: SignedRequest,
  fields: FormFields,
  ctx: AlipayErrorContext,
): void {
  const rule = RULES.get(req.service);
  if (!rule) return;
  for (const name of rule.foreign) {
    if (present(fields, name) !== undefined)
      throw mismatch(`answer carries ${name}, which ${shortName(req.service)} never returns`, ctx);
  }
  for (const [answerField, param] of rule.echoes) {
    const answered = present(fields, answerField);
    const sent = req.params[param];
    if (answered !== undefined && sent !== undefined && answered !== sent)
      throw mismatch(
        `answer is about ${answerField}=${answered.slice(0, 64)}, not the one sent`,
        ctx,
      );
  }
  if (req.service === SERVICES.REFUND) assertRefundAmount(req, fields, ctx);
}

/** After a SUCCESS: the node carries its own service's evidence (see the rules above). */
export function assertSuccessBelongsToRequest(
  req: SignedRequest,
  fields: FormFields,
  ctx: AlipayErrorContext,
): void {
  const rule = RULES.get(req.service);
  if (!rule) return;
  for (const group of rule.successNeeds) {
    if (!group.some((name) => present(fields, name) !== undefined)) {
      throw mismatch(
        `a ${shortName(req.service)} success must carry ${group.join(' or ')}: this answer is not for the request`,
        ctx,
      );
    }
  }
}

function assertRefundAmount(req: SignedRequest, fields: FormFields, ctx: AlipayErrorContext) {
  const answered = present(fields, 'refund_amount');
  const sentText = req.params['refund_amount'];
  const currency = req.params['currency'];
  if (answered === undefined || sentText === undefined || currency === undefined) return;
  const sent = parseAlipayAmount(sentText, currency);
  let amount;
  try {
    amount = parseAlipayAmount(answered, currency);
  } catch {
    throw mismatch(
      `answer's refund_amount ${answered.slice(0, 32)} is not a ${currency} amount`,
      ctx,
    );
  }
  if (amount.minor !== sent.minor)
    throw mismatch(`answer refunds ${formatMoney(amount)}, requested ${formatMoney(sent)}`, ctx);
}

function shortName(service: ServiceName): string {
  return shortServiceName(service) ?? service;
}
