import type { IncomingMessage, ServerResponse } from 'node:http';
import { encodeForm } from '../alipay/form';
import { isSignType } from '../alipay/signing';
import { formatGmt8 } from '../time';
import type { SandboxCore } from './core';
import { pay, type PayInput } from './customer';
import { toEpochMs } from './clock';
import { badRequest, SandboxError } from './errors';
import type { FaultSpec } from './faults';
import { parseJsonBody, readBody, sendJson } from './http-util';
import type { SandboxInspector } from './inspection';
import { faultView } from './views';
import { RECON_ENDPOINTS } from './recon/control-routes';

/** Endpoints of the control surface, listed by `GET /sandbox`. */
export const CONTROL_ENDPOINTS = [
  'POST   /sandbox/pay                      {"qrcode","amount","currency"?,"unpaid"?} a customer pays a code',
  'GET    /sandbox/state                    everything below at once',
  'GET    /sandbox/codes | /trades | /trades/{trade_no|out_trade_no} | /refunds | /notifications',
  'POST   /sandbox/notifications/{notify_id}/retry   send the next delivery now',
  'GET    /sandbox/faults                   installed fault rules',
  'POST   /sandbox/faults                   {"service","kind",...} or an array of them',
  'DELETE /sandbox/faults[/{id}]            remove one or all rules',
  'GET    /sandbox/clock                    sandbox time',
  'POST   /sandbox/clock                    {"set"?: "2024-01-01 23:59:00" | epoch ms, "advance_ms"?, "frozen"?}',
  'POST   /sandbox/sign                     {"params":{...},"partner"?} sign a request with the partner MD5 key',
  ...RECON_ENDPOINTS,
] as const;

interface Route {
  method: string;
  pattern: RegExp;
  run: (ctx: {
    core: SandboxCore;
    inspector: SandboxInspector;
    match: RegExpExecArray;
    body: () => Promise<unknown>;
  }) => unknown;
}

const routes: Route[] = [
  { method: 'GET', pattern: /^\/sandbox\/?$/, run: () => ({ endpoints: CONTROL_ENDPOINTS }) },
  { method: 'GET', pattern: /^\/sandbox\/state$/, run: ({ inspector }) => inspector.state() },
  { method: 'GET', pattern: /^\/sandbox\/codes$/, run: ({ inspector }) => inspector.codes() },
  { method: 'GET', pattern: /^\/sandbox\/trades$/, run: ({ inspector }) => inspector.trades() },
  {
    method: 'GET',
    pattern: /^\/sandbox\/trades\/([^/]+)$/,
    run: ({ inspector, match }) =>
      inspector.findTrade(decodeURIComponent(match[1] as string)) ?? notFound('trade'),
  },
  { method: 'GET', pattern: /^\/sandbox\/refunds$/, run: ({ inspector }) => inspector.refunds() },
  {
    method: 'GET',
    pattern: /^\/sandbox\/notifications$/,
    run: ({ inspector }) => inspector.notifications(),
  },
  {
    method: 'POST',
    pattern: /^\/sandbox\/notifications\/([^/]+)\/retry$/,
    run: ({ core, match }) => ({
      retried: core.notifier.retryNow(decodeURIComponent(match[1] as string)),
    }),
  },
  {
    method: 'POST',
    pattern: /^\/sandbox\/pay$/,
    run: async ({ core, inspector, body }) => {
      const result = pay(core, (await body()) as PayInput);
      return {
        ...inspector.trade(result.trade),
        notify_id: result.notifyId,
        notify_url: result.notifyUrl,
      };
    },
  },
  { method: 'GET', pattern: /^\/sandbox\/faults$/, run: ({ inspector }) => inspector.faults() },
  {
    method: 'POST',
    pattern: /^\/sandbox\/faults$/,
    run: async ({ core, body }) => {
      const input = await body();
      const specs = (Array.isArray(input) ? input : [input]) as FaultSpec[];
      return specs.map((s) => faultView(core.faults.add(s)));
    },
  },
  {
    method: 'DELETE',
    pattern: /^\/sandbox\/faults$/,
    run: ({ core }) => {
      core.faults.clear();
      return { cleared: true };
    },
  },
  {
    method: 'DELETE',
    pattern: /^\/sandbox\/faults\/(\d+)$/,
    run: ({ core, match }) =>
      core.faults.remove(Number(match[1])) ? { removed: Number(match[1]) } : notFound('fault'),
  },
  { method: 'GET', pattern: /^\/sandbox\/clock$/, run: ({ inspector }) => inspector.clock() },
  {
    method: 'POST',
    pattern: /^\/sandbox\/clock$/,
    run: async ({ core, inspector, body }) => {
      const input = (await body()) as {
        set?: number | string;
        advance_ms?: number;
        frozen?: boolean;
      };
      // Read `set` first (a bad value changes nothing), then freeze before moving, so
      // `{set, frozen: true}` stands exactly at `set`: freezing after would catch the
      // milliseconds spent in between.
      const target = input.set === undefined ? undefined : toEpochMs(input.set);
      const advance = input.advance_ms === undefined ? undefined : Number(input.advance_ms);
      if (advance !== undefined && !Number.isFinite(advance)) {
        throw badRequest(`cannot advance the clock by ${String(input.advance_ms)}`);
      }
      if (input.frozen === true) core.clock.freeze();
      if (target !== undefined) core.clock.set(target);
      if (advance !== undefined) core.clock.advance(advance);
      if (input.frozen === false) core.clock.unfreeze();
      return inspector.clock();
    },
  },
  {
    method: 'POST',
    pattern: /^\/sandbox\/sign$/,
    run: async ({ core, body }) => signForPeople(core, (await body()) as SignInput),
  },
];

function notFound(what: string): never {
  throw new SandboxError('SANDBOX_NOT_FOUND', `no such ${what}`);
}

interface SignInput {
  partner?: string;
  params?: Record<string, unknown>;
}

/**
 * Signs a parameter set with a partner's MD5 key so people can try the gateway with curl.
 * Only MD5: for RSA the sandbox holds the merchant's public key, not its private key.
 */
function signForPeople(core: SandboxCore, input: SignInput): Record<string, unknown> {
  if (typeof input.params !== 'object' || input.params === null)
    throw badRequest('params (an object of strings) is required');
  const params: Record<string, string> = {};
  // An object value (typically biz_data) is serialised once here: that string is what is signed.
  for (const [k, v] of Object.entries(input.params)) {
    params[k] = typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v);
  }
  const partnerId = input.partner ?? params.partner ?? core.partners.list()[0]?.partner;
  const partner = core.partners.get(partnerId);
  if (!partner) throw badRequest(`unknown partner ${String(partnerId)}`);
  const signer = partner.signers.get('MD5');
  if (!signer)
    throw badRequest(
      `partner ${partner.partner} has no MD5 key; sign RSA requests with the merchant private key`,
    );
  params.partner ??= partner.partner;
  params._input_charset ??= 'UTF-8';
  // QR services need a fresh GMT+8 timestamp; fill it in when the caller left it out.
  if (params.service?.startsWith('alipay.commerce.qrcode.'))
    params.timestamp ??= formatGmt8(core.clock.now());
  if (
    params.sign_type !== undefined &&
    (!isSignType(params.sign_type) || params.sign_type !== 'MD5')
  )
    throw badRequest('only sign_type MD5');
  params.sign_type = 'MD5';
  params.sign = signer.sign(params, 'UTF-8');
  const query = encodeForm(Object.entries(params), 'UTF-8');
  return { params, query };
}

/** Serves `/sandbox/*`; answers 404 for unknown paths. */
export async function handleControl(
  core: SandboxCore,
  inspector: SandboxInspector,
  req: IncomingMessage,
  res: ServerResponse,
  path: string,
): Promise<void> {
  const candidates = routes.filter((r) => r.pattern.test(path));
  const route = candidates.find((r) => r.method === req.method);
  if (!route) {
    sendJson(res, candidates.length > 0 ? 405 : 404, {
      error: candidates.length > 0 ? 'method not allowed' : 'not found',
      endpoints: CONTROL_ENDPOINTS,
    });
    return;
  }
  try {
    const match = route.pattern.exec(path) as RegExpExecArray;
    const result = await route.run({
      core,
      inspector,
      match,
      body: async () => parseJsonBody(await readBody(req)),
    });
    sendJson(res, route.method === 'POST' && path.endsWith('/faults') ? 201 : 200, result);
  } catch (e) {
    if (e instanceof SandboxError) {
      sendJson(res, e.httpStatus, { error: e.code, message: e.message });
      return;
    }
    throw e;
  }
}
