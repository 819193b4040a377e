import type { IncomingMessage, ServerResponse } from 'node:http';
import type { SandboxCore } from '../core';
import type { GatewayFault } from '../faults';
import type { HeldConnections } from '../held-connections';
import { readBody, sendBytes } from '../http-util';
import { GatewayRejection } from '../refusals';
import { SERVICES } from '../service-names';
import { headerSafe, rawAnswer, rejectionAnswer, textAnswer, type RenderedAnswer } from './answer';
import {
  callFacts,
  execute,
  failAnswer,
  systemErrorAnswer,
  unknownAnswer,
  type CallFacts,
} from './execute';
import { executeAndRemember, foreignAnswer } from './foreign-answer';
import { parseGatewayRequest, type GatewayRequest } from './request';

const DEFAULT_ERROR_PAGE =
  '<html><head><title>502 Bad Gateway</title></head><body>Bad Gateway</body></html>';
const DEFAULT_NON_XML =
  '<!DOCTYPE html><html><body><h1>System busy, please try again later</h1></body></html>';

/**
 * `GET|POST /gateway.do`: decodes the call, consults the fault script, runs the call and
 * writes MAPI's answer, or misbehaves exactly as the injected fault says.
 */
export async function handleGateway(
  core: SandboxCore,
  held: HeldConnections,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const method = req.method === 'POST' ? 'POST' : req.method === 'GET' ? 'GET' : undefined;
  if (!method) {
    write(res, rawAnswer(405, 'method not allowed', 'text/plain; charset=UTF-8', 'HTTP 405'));
    return;
  }
  const body = method === 'POST' ? await readBody(req) : Buffer.alloc(0);
  const url = req.url ?? '';
  const rawQuery = url.includes('?') ? url.slice(url.indexOf('?') + 1) : '';
  let request: GatewayRequest;
  try {
    request = parseGatewayRequest(method, rawQuery, body);
  } catch (e) {
    if (!(e instanceof GatewayRejection)) throw e;
    write(res, rejectionAnswer(e.code, undefined, 'UTF-8', e.detail));
    core.log(`gateway ${method} (undecodable) -> F ${e.code}: ${e.detail}`);
    return;
  }
  const facts = callFacts(core, request);
  const fault = facts.service
    ? core.faults.takeForGateway(facts.service, facts.partner)
    : undefined;
  const label = `gateway ${method} ${request.params.service ?? '(no service)'}${fault ? ` [fault ${fault.kind}]` : ''}`;
  const answer = await answerWithFault(core, held, request, facts, fault, req);
  if (answer) {
    write(res, answer);
    core.log(`${label} -> ${answer.summary}${answer.reason ? `: ${answer.reason}` : ''}`);
  } else {
    core.log(`${label} -> no answer`);
  }
}

/** The answer to write, or undefined when the fault already took care of the connection. */
async function answerWithFault(
  core: SandboxCore,
  held: HeldConnections,
  request: GatewayRequest,
  facts: CallFacts,
  fault: GatewayFault | undefined,
  req: IncomingMessage,
): Promise<RenderedAnswer | undefined> {
  const isVerify = facts.service === SERVICES.NOTIFY_VERIFY;
  switch (fault?.kind) {
    case undefined:
      return executeAndRemember(core, request);
    case 'reset':
      req.socket.destroy();
      return undefined;
    case 'lost-answer':
      execute(core, request);
      req.socket.destroy();
      return undefined;
    case 'hang':
      if (fault.apply) execute(core, request);
      held.hold(req.socket, fault.ms);
      return undefined;
    case 'slow': {
      // Like a real server, the call is processed even if the client gave up meanwhile: a
      // timed-out CANCEL or REFUND may still have happened (outcome unknown).
      const awake = await held.sleep(fault.ms);
      if (!awake) {
        req.socket.destroy();
        return undefined;
      }
      return executeAndRemember(core, request);
    }
    case 'foreign-answer':
      if (isVerify || !facts.spec) return executeAndRemember(core, request);
      return foreignAnswer(core, request, facts, fault);
    case 'http-error':
      return rawAnswer(
        fault.status ?? 502,
        fault.body ?? DEFAULT_ERROR_PAGE,
        'text/html; charset=UTF-8',
        `HTTP ${fault.status ?? 502}`,
      );
    case 'non-xml':
      return rawAnswer(
        200,
        fault.body ?? DEFAULT_NON_XML,
        fault.contentType ?? 'text/html; charset=UTF-8',
        'non-XML body',
      );
    case 'system-error':
      return systemErrorAnswer(request, facts.signer);
    case 'unknown':
      if (fault.apply) execute(core, request);
      if (isVerify || !facts.spec) return textAnswer('false', 'injected fault: unknown');
      return unknownAnswer(facts.spec, request, facts.signer);
    case 'fail': {
      // `apply`: the call went through, the answer says otherwise (e.g. an unknown code).
      if (fault.apply) execute(core, request);
      if (isVerify || !facts.spec)
        return textAnswer('false', `injected fault: fail ${fault.error}`);
      const extra: Record<string, string> = fault.retryFlag ? { retry_flag: fault.retryFlag } : {};
      return failAnswer(
        facts.spec,
        request,
        facts.signer,
        fault.error,
        extra,
        `injected fault: fail ${fault.error}`,
      );
    }
  }
}

function write(res: ServerResponse, answer: RenderedAnswer): void {
  if (res.destroyed) return;
  const headers: Record<string, string> = answer.reason
    ? { 'x-sandbox-reason': headerSafe(answer.reason) }
    : {};
  sendBytes(res, answer.status, answer.body, answer.contentType, headers);
}
