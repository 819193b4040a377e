import type { Signer } from '../../alipay/signing';
import type { SandboxCore } from '../core';
import { BusinessRefusal, GatewayRejection, MapiError } from '../refusals';
import { SERVICES, shortNameOf, type ServiceName } from '../service-names';
import { businessAnswer, rejectionAnswer, textAnswer, type RenderedAnswer } from './answer';
import {
  requireFreshTimestamp,
  requireParams,
  requirePartner,
  requireService,
  requireSignature,
  signerFor,
} from './checks';
import type { GatewayRequest } from './request';
import { SERVICE_SPECS, type ServiceResult, type ServiceSpec } from './service';

/** How a gateway call ended, before rendering. */
export type Outcome =
  | { kind: 'result'; spec: ServiceSpec; result: ServiceResult; signer: Signer }
  | { kind: 'refused'; spec: ServiceSpec; refusal: BusinessRefusal; signer: Signer }
  | { kind: 'rejected'; rejection: GatewayRejection; signer: Signer | undefined }
  | { kind: 'verify'; valid: boolean; reason: string };

/** What can be known about a call without judging it (used to shape injected faults). */
export interface CallFacts {
  service: ServiceName | undefined;
  partner: string | undefined;
  spec: ServiceSpec | undefined;
  /** The partner's signer for the call's `sign_type`, if configured (signature not checked). */
  signer: Signer | undefined;
}

export function callFacts(core: SandboxCore, request: GatewayRequest): CallFacts {
  const service =
    request.params.service && shortNameOf(request.params.service)
      ? (request.params.service as ServiceName)
      : undefined;
  const partner = core.partners.get(request.params.partner);
  return {
    service,
    partner: partner?.partner,
    spec: service && SERVICE_SPECS.get(service),
    signer: partner && signerFor(partner, request.params.sign_type),
  };
}

/**
 * Runs one gateway call through the checks and its service: the state changes here, and only
 * here. Gateway rejections and business refusals become outcomes, anything else is a bug.
 */
export function execute(core: SandboxCore, request: GatewayRequest): Outcome {
  const { params, charset } = request;
  let signer: Signer | undefined;
  try {
    const service = requireService(params);
    const partner = requirePartner(params, core.partners);
    signer = signerFor(partner, params.sign_type);
    if (service === SERVICES.NOTIFY_VERIFY) return notifyVerify(core, request, partner.partner);
    signer = requireSignature(params, partner, charset);
    const spec = SERVICE_SPECS.get(service) as ServiceSpec;
    requireParams(params, spec.required);
    const now = core.clock.now();
    if (spec.timestamp)
      requireFreshTimestamp(
        params.timestamp as string,
        spec.timestamp,
        now,
        core.rules.timestampWindowMs,
      );
    try {
      return {
        kind: 'result',
        spec,
        result: spec.run({ partner: partner.partner, params, now, core }),
        signer,
      };
    } catch (e) {
      if (e instanceof BusinessRefusal) return { kind: 'refused', spec, refusal: e, signer };
      throw e;
    } finally {
      core.changed();
    }
  } catch (e) {
    if (e instanceof GatewayRejection) return { kind: 'rejected', rejection: e, signer };
    throw e;
  }
}

/**
 * `notify_verify` (MAPI.md §12.4): `true` for a `notify_id` this sandbox issued to the partner
 * (and, with a TTL configured, not expired). SDKs send it unsigned, so a missing signature is
 * accepted; a present one must be right [D vs S].
 */
function notifyVerify(core: SandboxCore, request: GatewayRequest, partner: string): Outcome {
  const { params, charset } = request;
  if (params.sign !== undefined || params.sign_type !== undefined) {
    requireSignature(params, core.partners.get(partner)!, charset);
  }
  requireParams(params, ['notify_id']);
  const record = core.notifier.get(params.notify_id as string);
  if (!record || !core.notifier.isGenuine(partner, record.notifyId))
    return { kind: 'verify', valid: false, reason: 'unknown notify_id' };
  const ttl = core.rules.notifyIdTtlMs;
  if (ttl !== undefined && core.clock.now() - record.createdAt > ttl)
    return { kind: 'verify', valid: false, reason: 'notify_id expired' };
  return { kind: 'verify', valid: true, reason: 'genuine notify_id' };
}

/** Renders an outcome as MAPI would answer it, in the request's charset. */
export function render(outcome: Outcome, request: GatewayRequest): RenderedAnswer {
  switch (outcome.kind) {
    case 'result':
      return businessAnswer(
        request.params,
        outcome.result.node,
        outcome.result.fields,
        outcome.signer,
        request.charset,
      );
    case 'refused':
      return failAnswer(
        outcome.spec,
        request,
        outcome.signer,
        outcome.refusal.code,
        outcome.refusal.fields,
        outcome.refusal.detail,
      );
    case 'rejected':
      return rejectionAnswer(
        outcome.rejection.code,
        outcome.signer,
        request.charset,
        outcome.rejection.detail,
      );
    case 'verify':
      return textAnswer(outcome.valid ? 'true' : 'false', outcome.reason);
  }
}

/** A `result_code=FAIL` node with the service's identifying fields. */
export function failAnswer(
  spec: ServiceSpec,
  request: GatewayRequest,
  signer: Signer | undefined,
  error: string,
  extra: Readonly<Record<string, string>>,
  reason: string,
): RenderedAnswer {
  const fields: Record<string, string> = {
    ...spec.echo(request.params),
    result_code: 'FAIL',
    error,
    ...extra,
  };
  if (spec.retryFlag) {
    fields.retry_flag ??= 'N';
    fields.detail_error_code ??= error;
  }
  return businessAnswer(request.params, spec.node, fields, signer, request.charset, reason);
}

/** A `result_code=UNKNOWN` node (fault injection); CANCEL also says `retry_flag=Y`. */
export function unknownAnswer(
  spec: ServiceSpec,
  request: GatewayRequest,
  signer: Signer | undefined,
): RenderedAnswer {
  const fields: Record<string, string> = { ...spec.echo(request.params), result_code: 'UNKNOWN' };
  if (spec.retryFlag) fields.retry_flag = 'Y';
  return businessAnswer(
    request.params,
    spec.node,
    fields,
    signer,
    request.charset,
    'injected fault: unknown',
  );
}

/** `is_success=F` + `SYSTEM_ERROR` (fault injection). */
export function systemErrorAnswer(
  request: GatewayRequest,
  signer: Signer | undefined,
): RenderedAnswer {
  return rejectionAnswer(
    MapiError.SYSTEM_ERROR,
    signer,
    request.charset,
    'injected fault: system-error',
  );
}
