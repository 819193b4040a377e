import type { SandboxCore } from '../core';
import type { GatewayFault } from '../faults';
import { GatewayRejection } from '../refusals';
import { SERVICES, resolveServiceTarget } from '../service-names';
import { businessAnswer, rawAnswer, type RenderedAnswer } from './answer';
import { execute, render, type CallFacts, type Outcome } from './execute';
import type { GatewayRequest } from './request';
import { query } from './trade-services';

type ForeignAnswerFault = Extract<GatewayFault, { kind: 'foreign-answer' }>;

/**
 * Runs a call and, when it succeeded, keeps its business node for the `foreign-answer` fault;
 * returns the rendered answer as usual.
 */
export function executeAndRemember(core: SandboxCore, request: GatewayRequest): RenderedAnswer {
  const outcome = execute(core, request);
  remember(core, request, outcome);
  return render(outcome, request);
}

function remember(core: SandboxCore, request: GatewayRequest, outcome: Outcome): void {
  const partner = request.params.partner;
  if (outcome.kind !== 'result' || !request.params.service || !partner) return;
  core.faults.rememberAnswer(request.params.service, partner, {
    node: outcome.result.node,
    fields: { ...outcome.result.fields },
  });
}

/**
 * The `foreign-answer` fault: a business node genuinely signed with the partner's key, but
 * belonging to another request, behind this request's `<request>` echo. What a misrouting
 * proxy, a cache or an attacker replaying signed answers produces; the client must refuse it.
 */
export function foreignAnswer(
  core: SandboxCore,
  request: GatewayRequest,
  facts: CallFacts,
  fault: ForeignAnswerFault,
): RenderedAnswer {
  if (fault.apply) remember(core, request, execute(core, request));
  if (!facts.partner || !facts.signer) {
    return rawAnswer(
      500,
      'sandbox: foreign-answer needs a configured partner and sign_type to sign with',
      'text/plain; charset=UTF-8',
      'HTTP 500 (foreign-answer impossible)',
    );
  }
  const target = resolveServiceTarget(fault.from ?? 'QUERY');
  const from = target?.kind === 'service' ? target.service : SERVICES.QUERY;
  if (from === SERVICES.QUERY) return freshQuery(core, request, facts, fault);
  const last = core.faults.lastAnswer(from, facts.partner);
  if (!last) {
    return rawAnswer(
      500,
      `sandbox: no earlier ${fault.from ?? from} answer to replay`,
      'text/plain; charset=UTF-8',
      'HTTP 500 (foreign-answer: nothing to replay)',
    );
  }
  return businessAnswer(
    request.params,
    last.node,
    { ...last.fields },
    facts.signer,
    request.charset,
    `injected fault: foreign-answer (last ${fault.from ?? from} answer)`,
  );
}

/** A fresh, read-only QUERY of the call's trade (or `outTradeNo`), as the call's answer. */
function freshQuery(
  core: SandboxCore,
  request: GatewayRequest,
  facts: CallFacts,
  fault: ForeignAnswerFault,
): RenderedAnswer {
  const p = request.params;
  const params: Record<string, string> = {};
  const outTradeNo = fault.outTradeNo ?? p.partner_trans_id ?? p.out_trade_no;
  const tradeNo = fault.outTradeNo === undefined ? (p.alipay_trans_id ?? p.trade_no) : undefined;
  if (outTradeNo) params.partner_trans_id = outTradeNo;
  if (tradeNo) params.alipay_trans_id = tradeNo;
  let node: string;
  let fields: Record<string, string>;
  try {
    ({ node, fields } = query({
      partner: facts.partner as string,
      params,
      now: core.clock.now(),
      core,
    }));
  } catch (e) {
    if (!(e instanceof GatewayRejection)) throw e;
    return rawAnswer(
      500,
      'sandbox: foreign-answer from QUERY needs a trade: the call names none, give outTradeNo',
      'text/plain; charset=UTF-8',
      'HTTP 500 (foreign-answer: no trade)',
    );
  }
  return businessAnswer(
    request.params,
    node,
    fields,
    facts.signer,
    request.charset,
    `injected fault: foreign-answer (QUERY of ${outTradeNo ?? tradeNo ?? '?'})`,
  );
}
