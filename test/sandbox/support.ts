import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer, type IncomingMessage } from 'node:http';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { request } from 'undici';
import type { Charset } from '../../src/alipay/charset';
import { encodeForm, parseForm } from '../../src/alipay/form';
import { SERVICES } from '../../src/alipay/services';
import { createMd5Signer, type Signer } from '../../src/alipay/signing';
import { parseGatewayXml, verifyGatewayEnvelope, type GatewayEnvelope } from '../../src/alipay/xml';
import { DEFAULT_SANDBOX_MD5_KEY, DEFAULT_SANDBOX_PARTNER, type Sandbox } from '../../src/sandbox';
import { formatGmt8 } from '../../src/time';

/**
 * Test helpers: a merchant that sends real signed MAPI calls to a sandbox (the gateway layer's
 * own signer and form encoder), and a tiny notification receiver.
 */

export const PARTNER = DEFAULT_SANDBOX_PARTNER;
export const MD5_KEY = DEFAULT_SANDBOX_MD5_KEY;
/** The merchant's MD5 signer: the key is shared, so it also verifies the sandbox's answers. */
export const md5 = createMd5Signer(MD5_KEY);

/** MAPI service names by short name. */
export const S = SERVICES;

export interface CallOptions {
  method?: 'GET' | 'POST';
  /** Signs with this signer (default MD5 with the default key); null sends no signature. */
  signer?: Signer | null;
  charset?: Charset;
  /** Changes the parameters after signing (to break the signature). */
  tamper?: (params: Record<string, string>) => void;
  /** Leave out `_input_charset` (and `partner` when false too). */
  omit?: string[];
}

export interface CallResult {
  status: number;
  text: string;
  body: Buffer;
  headers: Record<string, string | string[] | undefined>;
  envelope: GatewayEnvelope | undefined;
  /** The business node's fields (T answers). */
  business: Record<string, string>;
  /** True when `<sign>` verifies with the signer used for the call. */
  signatureValid: boolean;
}

/** Sends a signed MAPI call the way the Alipay Java SDK does (POST: `_input_charset` in the URL). */
export async function call(
  sandbox: Sandbox,
  params: Record<string, string>,
  options: CallOptions = {},
): Promise<CallResult> {
  const charset = options.charset ?? 'UTF-8';
  const all: Record<string, string> = { _input_charset: charset, partner: PARTNER, ...params };
  for (const k of options.omit ?? []) delete all[k];
  const signer = options.signer === undefined ? md5 : options.signer;
  if (signer) {
    all.sign = signer.sign(all, charset);
    all.sign_type = signer.signType;
  }
  options.tamper?.(all);
  const method = options.method ?? 'POST';
  let url = sandbox.gatewayUrl;
  let body: string | undefined;
  if (method === 'GET') url += `?${encodeForm(Object.entries(all), charset)}`;
  else {
    const { _input_charset: cs, ...rest } = all;
    if (cs !== undefined) url += `?_input_charset=${cs}`;
    body = encodeForm(Object.entries(rest), charset);
  }
  const res = await request(url, {
    method,
    body,
    headers:
      body === undefined
        ? {}
        : { 'content-type': `application/x-www-form-urlencoded; charset=${charset}` },
    reset: true,
  });
  const bytes = Buffer.from(await res.body.arrayBuffer());
  let envelope: GatewayEnvelope | undefined;
  try {
    envelope = parseGatewayXml(bytes, {
      charset,
      contentType: String(res.headers['content-type'] ?? ''),
    });
  } catch {
    envelope = undefined;
  }
  return {
    status: res.statusCode,
    text: bytes.toString(charset === 'UTF-8' ? 'utf8' : 'latin1'),
    body: bytes,
    headers: res.headers,
    envelope,
    business: { ...(envelope?.business ?? {}) },
    signatureValid: envelope !== undefined && signer !== null && safeVerify(envelope, signer),
  };
}

function safeVerify(envelope: GatewayEnvelope, signer: Signer): boolean {
  try {
    return verifyGatewayEnvelope(envelope, signer);
  } catch {
    return false; // a signer without the peer's public key cannot verify
  }
}

/** `yyyy-MM-dd HH:mm:ss` GMT+8 of the sandbox's clock: a fresh QR-service `timestamp`. */
export const stamp = (sandbox: Sandbox): string => formatGmt8(sandbox.clock.now());

/** The CREATE `biz_data` of MAPI.md vector V3, with overrides (undefined removes a field). */
export function bizData(overrides: Record<string, unknown> = {}): string {
  const base: Record<string, unknown> = {
    secondary_merchant_id: 'M0001',
    secondary_merchant_name: 'Demo Cafe',
    secondary_merchant_industry: '5812',
    store_id: 'S01',
    store_name: 'Demo Cafe Central',
    trans_currency: 'USD',
    currency: 'USD',
    ...overrides,
  };
  for (const k of Object.keys(base)) if (base[k] === undefined) delete base[k];
  return JSON.stringify(base);
}

/** CREATE a code and return its content; fails the test on anything but success. */
export async function createCode(
  sandbox: Sandbox,
  notifyUrl?: string,
  biz: Record<string, unknown> = {},
  options: CallOptions = {},
): Promise<string> {
  const params: Record<string, string> = {
    service: S.CREATE,
    timestamp: stamp(sandbox),
    biz_type: 'OVERSEASHOPQRCODE',
    biz_data: bizData(biz),
  };
  if (notifyUrl) params.notify_url = notifyUrl;
  const res = await call(sandbox, params, options);
  const qrcode = res.business.qrcode;
  if (!qrcode) throw new Error(`CREATE failed: ${res.text}`);
  return qrcode;
}

/** One notification POST as the receiver saw it. */
export interface Received {
  body: Buffer;
  contentType: string;
  fields: Record<string, string>;
  at: number;
}

/** What the receiver answers to the n-th POST (1-based). */
export type ReceiverAnswer = (
  n: number,
  received: Received,
) => { status?: number; body: string } | string;

/** A merchant's notification endpoint on 127.0.0.1: records every POST and answers as told. */
export async function startReceiver(
  answer: ReceiverAnswer = () => 'success',
): Promise<{ url: string; received: Received[]; close: () => Promise<void> }> {
  const received: Received[] = [];
  const server = createServer((req: IncomingMessage, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const contentType = String(req.headers['content-type'] ?? '');
      const charset: Charset = /gbk/i.test(contentType) ? 'GBK' : 'UTF-8';
      const entry: Received = {
        body,
        contentType,
        fields: { ...parseForm(body, charset) },
        at: Date.now(),
      };
      received.push(entry);
      const a = answer(received.length, entry);
      const { status, body: text } =
        typeof a === 'string'
          ? { status: 200, body: a }
          : { status: a.status ?? 200, body: a.body };
      res.writeHead(status, { 'content-type': 'text/plain' });
      res.end(text);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/alipay/notify`,
    received,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Polls `predicate` every 5 ms until true or `timeoutMs` (default 5 s). */
export async function waitFor(
  predicate: () => boolean,
  timeoutMs = 5000,
  what = 'condition',
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** GET/POST a sandbox control endpoint and parse its JSON. */
export async function control(
  sandbox: Sandbox,
  method: string,
  path: string,
  json?: unknown,
): Promise<{ status: number; json: unknown }> {
  const res = await request(`${sandbox.url}${path}`, {
    method: method as 'GET',
    body: json === undefined ? undefined : JSON.stringify(json),
    headers: json === undefined ? {} : { 'content-type': 'application/json' },
    reset: true,
  });
  return { status: res.statusCode, json: await res.body.json() };
}

/**
 * Runs `src/sandbox/main.ts` (as `npm run sandbox` does) on a free port and waits for the URL it
 * prints. `stop()` sends SIGTERM and answers the exit code.
 */
export async function spawnSandboxMain(
  args: string[] = [],
): Promise<{ url: string; output: () => string; stop: () => Promise<number> }> {
  const child: ChildProcess = spawn(
    process.execPath,
    ['--import', 'tsx', 'src/sandbox/main.ts', ...args],
    {
      cwd: join(__dirname, '../..'),
      env: { ...process.env, SANDBOX_PORT: '0', SANDBOX_QUIET: '1' },
    },
  );
  let out = '';
  child.stdout?.on('data', (c: Buffer) => (out += c.toString()));
  const exited = once(child, 'exit');
  const stop = async (): Promise<number> => {
    child.kill('SIGTERM');
    const [code] = (await exited) as [number];
    return code;
  };
  const deadline = Date.now() + 20_000;
  while (!/listening on (http:\/\/\S+) /.test(out) && Date.now() < deadline)
    await new Promise((r) => setTimeout(r, 50));
  const url = /listening on (http:\/\/\S+) /.exec(out)?.[1];
  if (!url) {
    await stop();
    throw new Error(`no URL printed: ${out}`);
  }
  return { url, output: () => out, stop };
}
