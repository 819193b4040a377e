import { XMLParser } from 'fast-xml-parser';
import {
  DEFAULT_CHARSET,
  charsetFromContentType,
  charsetFromXmlDeclaration,
  decode,
  encode,
  type Charset,
} from './charset';
import { CharsetError, MalformedXmlError } from './errors';
import type { FormFields } from './form';
import { assertWellFormed, decodeXmlEntities } from './xml-scan';
import type { Params, Signer } from './signing';

/**
 * The synchronous MAPI answer (MAPI.md §2.3): safe parsing, business-node extraction and
 * signature checking on the way in, and {@link renderGatewayResponse} to build real signed
 * answers (sandbox and tests).
 *
 * Safety: a size limit before anything else; DOCTYPE / ENTITY declarations refused outright (no
 * entity expansion of any kind: only the five XML entities and numeric references are decoded);
 * a linear well-formedness scan (balanced tags, single root, nothing truncated) before
 * fast-xml-parser builds the tree; tag values kept as strings (`8.80`, `0001` stay verbatim).
 */

/** Default cap on a gateway answer; real MAPI answers are a few KiB. */
export const DEFAULT_MAX_XML_BYTES = 256 * 1024;

/** A parsed gateway answer, MAPI names as they arrived. */
export interface GatewayEnvelope {
  readonly charset: Charset;
  /** `is_success` = `T`: the gateway accepted the call (NOT business success). */
  readonly isSuccess: boolean;
  /** Top-level `<error>` of an `F` answer. */
  readonly error?: string;
  /** The `<request>` echo (`<param name>` -> text); empty when absent. May contain our `sign`. */
  readonly request: FormFields;
  /** Name of the single child of `<response>` (`alipay`, `qrcodeinfo`, …). */
  readonly businessNode?: string;
  /** Direct children of the business node, entity-decoded and trimmed, in document order. */
  readonly business?: FormFields;
  readonly sign?: string;
  readonly signType?: string;
}

/** Options of {@link parseGatewayXml}. */
export interface ParseXmlOptions {
  /** Charset the request was sent in; used when neither the XML nor the header declares one. */
  readonly charset?: Charset;
  /** The HTTP `Content-Type`, whose `charset` parameter is honoured. */
  readonly contentType?: string;
  /** Size cap in bytes (default {@link DEFAULT_MAX_XML_BYTES}). */
  readonly maxBytes?: number;
}

const entityDecoder = {
  setExternalEntities(): void {},
  addInputEntities(): void {
    // Unreachable: declarations are refused before parsing. Belt and braces.
    throw new MalformedXmlError('FORBIDDEN_DECLARATION', 'entity declarations are not accepted');
  },
  reset(): void {},
  setXmlVersion(): void {},
  decode: decodeXmlEntities,
};

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@_',
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: true,
  processEntities: true,
  entityDecoder,
  ignoreDeclaration: true,
  ignorePiTags: true,
  // No callbacks need paths: saves building a path string for every value.
  jPath: false,
});

type Node = Record<string, unknown>;

function isNode(v: unknown): v is Node {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function structure(detail: string): MalformedXmlError {
  return new MalformedXmlError('UNEXPECTED_STRUCTURE', detail);
}

/** Text of a leaf element (attributes ignored); undefined when absent. */
function leafText(parent: Node, name: string): string | undefined {
  const v = parent[name];
  if (v === undefined) return undefined;
  if (typeof v === 'string') return v;
  if (Array.isArray(v)) throw structure(`<${name}> occurs more than once`);
  if (isNode(v)) {
    for (const key of Object.keys(v)) {
      if (key !== '#text' && !key.startsWith('@_')) throw structure(`<${name}> has child elements`);
    }
    const text = v['#text'];
    return typeof text === 'string' ? text : '';
  }
  throw structure(`<${name}> is not text`);
}

function readRequestEcho(alipay: Node): FormFields {
  const echo: FormFields = Object.create(null) as FormFields;
  const request = alipay['request'];
  if (request === undefined || request === '') return echo;
  if (!isNode(request)) throw structure('<request> is not an element list');
  const raw = request['param'];
  if (raw === undefined) return echo;
  const params: unknown[] = Array.isArray(raw) ? raw : [raw];
  for (const p of params) {
    if (!isNode(p)) continue; // <param/> without a name: nothing to echo
    const name = p['@_name'];
    if (typeof name !== 'string') continue;
    const text = p['#text'];
    echo[name] = typeof text === 'string' ? text : '';
  }
  return echo;
}

function readBusiness(alipay: Node): { name: string; fields: FormFields } | undefined {
  const response = alipay['response'];
  if (response === undefined) return undefined;
  if (!isNode(response)) throw structure('<response> has no business node');
  const children = Object.keys(response).filter((k) => !k.startsWith('@_'));
  if (children.length !== 1 || children[0] === '#text') {
    throw structure(`<response> must have exactly one child element, found ${children.length}`);
  }
  const name = children[0] as string;
  const node = response[name];
  if (Array.isArray(node)) throw structure(`<response> has several <${name}> nodes`);
  const fields: FormFields = Object.create(null) as FormFields;
  if (node === '') return { name, fields };
  if (!isNode(node)) throw structure(`business node <${name}> holds text, not fields`);
  for (const key of Object.keys(node)) {
    if (key.startsWith('@_')) continue;
    if (key === '#text') throw structure(`business node <${name}> mixes text and fields`);
    fields[key] = leafText(node, key) as string;
  }
  return { name, fields };
}

function pickCharset(bytes: Buffer, options: ParseXmlOptions): Charset {
  try {
    return (
      charsetFromXmlDeclaration(bytes) ??
      charsetFromContentType(options.contentType) ??
      options.charset ??
      DEFAULT_CHARSET
    );
  } catch (err) {
    if (err instanceof CharsetError) throw new MalformedXmlError('NOT_XML', err.message);
    throw err;
  }
}

/**
 * Parses a gateway answer from its raw bytes (or an already decoded string). The charset is
 * taken from the XML declaration, then the `Content-Type`, then the request charset.
 * Throws {@link MalformedXmlError} for anything that is not a MAPI envelope; never verifies
 * (see {@link verifyGatewayEnvelope}).
 */
export function parseGatewayXml(
  input: Buffer | string,
  options: ParseXmlOptions = {},
): GatewayEnvelope {
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_XML_BYTES;
  let xml: string;
  let charset: Charset;
  if (typeof input === 'string') {
    if (input.length > maxBytes)
      throw new MalformedXmlError('TOO_LARGE', `over ${maxBytes} characters`);
    xml = input;
    charset = options.charset ?? DEFAULT_CHARSET;
  } else {
    if (input.length > maxBytes) throw new MalformedXmlError('TOO_LARGE', `over ${maxBytes} bytes`);
    charset = pickCharset(input, options);
    try {
      xml = decode(input, charset);
    } catch (err) {
      if (err instanceof CharsetError)
        throw new MalformedXmlError('NOT_XML', `${err.message} (declared ${charset})`);
      throw err;
    }
  }
  if (xml.charCodeAt(0) === 0xfeff) xml = xml.slice(1);
  if (xml.trim() === '') throw new MalformedXmlError('EMPTY', 'empty body');
  assertWellFormed(xml);
  let tree: unknown;
  try {
    tree = parser.parse(xml);
  } catch (err) {
    if (err instanceof MalformedXmlError) throw err;
    const message =
      err instanceof Error ? err.message.split('Context')[0]?.slice(0, 120) : 'parse error';
    throw new MalformedXmlError('NOT_WELL_FORMED', message ?? 'parse error');
  }
  const alipay = isNode(tree) ? tree['alipay'] : undefined;
  if (!isNode(alipay)) throw structure('root element is not <alipay>');
  const flag = leafText(alipay, 'is_success');
  if (flag !== 'T' && flag !== 'F')
    throw structure(`<is_success> is ${JSON.stringify(flag ?? null)}`);
  const business = readBusiness(alipay);
  const envelope: {
    -readonly [K in keyof GatewayEnvelope]: GatewayEnvelope[K];
  } = { charset, isSuccess: flag === 'T', request: readRequestEcho(alipay) };
  const error = leafText(alipay, 'error');
  if (error !== undefined) envelope.error = error;
  if (business) {
    envelope.businessNode = business.name;
    envelope.business = business.fields;
  }
  const sign = leafText(alipay, 'sign');
  if (sign !== undefined && sign !== '') envelope.sign = sign;
  const signType = leafText(alipay, 'sign_type');
  if (signType !== undefined && signType !== '') envelope.signType = signType;
  return envelope;
}

/**
 * The parameter set a gateway answer's signature covers: the business node's children for a
 * `T` answer (MAPI.md §4.5), `error=<code>` for an `F` answer without one ([S][R]: what the
 * Alipay Java SDK would sign; unverified). Undefined when there is nothing to verify.
 */
export function signedContent(envelope: GatewayEnvelope): Params | undefined {
  if (envelope.business) return envelope.business;
  if (!envelope.isSuccess && envelope.error !== undefined) return { error: envelope.error };
  return undefined;
}

/**
 * Checks the envelope's `<sign>` with `signer`, over {@link signedContent}, hashing in the
 * answer's charset. False when unsigned, when the declared `sign_type` differs from the
 * signer's, or when the signature is wrong.
 */
export function verifyGatewayEnvelope(envelope: GatewayEnvelope, signer: Signer): boolean {
  const content = signedContent(envelope);
  if (!content || envelope.sign === undefined) return false;
  if (envelope.signType !== undefined && envelope.signType.toUpperCase() !== signer.signType)
    return false;
  return signer.verify(content, envelope.sign, envelope.charset);
}

/** What {@link renderGatewayResponse} should produce. */
export interface GatewayResponseSpec {
  /** Default true (`T`). */
  readonly isSuccess?: boolean;
  /** Top-level `<error>` of an `F` answer. */
  readonly error?: string;
  /** Parameters to echo in `<request>`, in order; omitted when undefined. */
  readonly request?: Params;
  /** Business fields, in order (empty values are rendered but not signed). */
  readonly business?: Params;
  /** Name of the business node (default `alipay`; QR-code services may use `qrcodeinfo`). */
  readonly businessNode?: string;
  /** Signs the answer and adds `<sign>` / `<sign_type>`; F answers are signed over `error`. */
  readonly signer?: Signer;
  /** Use this `<sign>` instead of computing one (forged or stale signatures in tests). */
  readonly signature?: string;
  /** `sign_type` written next to {@link signature} when there is no signer (default `MD5`). */
  readonly signType?: string;
  /** Default UTF-8; also written into the XML declaration. */
  readonly charset?: Charset;
  /** Emit `<?xml version="1.0" encoding="…"?>` first (default true). */
  readonly declaration?: boolean;
}

const ELEMENT_NAME = /^[A-Za-z_][A-Za-z0-9_.-]*$/;

function escapeText(v: string): string {
  return v.replace(/[&<>]/g, (c) => (c === '&' ? '&amp;' : c === '<' ? '&lt;' : '&gt;'));
}

function escapeAttr(v: string): string {
  return escapeText(v).replace(/"/g, '&quot;');
}

function element(name: string, value: string, indent: string): string {
  if (!ELEMENT_NAME.test(name)) throw structure(`invalid element name ${JSON.stringify(name)}`);
  return `${indent}<${name}>${escapeText(value)}</${name}>\n`;
}

/**
 * Renders a gateway answer in MAPI's envelope shape (MAPI.md §2.3), signed like Alipay signs it,
 * encoded in `charset`. Layout matches the reference examples byte for byte: XML declaration,
 * two-space indentation, `\n` line ends, no trailing newline.
 */
export function renderGatewayResponse(spec: GatewayResponseSpec): Buffer {
  const charset = spec.charset ?? DEFAULT_CHARSET;
  const isSuccess = spec.isSuccess ?? true;
  let xml = spec.declaration === false ? '' : `<?xml version="1.0" encoding="${charset}"?>\n`;
  xml += '<alipay>\n';
  xml += element('is_success', isSuccess ? 'T' : 'F', '  ');
  if (spec.error !== undefined) xml += element('error', spec.error, '  ');
  if (spec.request) {
    xml += '  <request>\n';
    for (const [k, v] of Object.entries(spec.request)) {
      if (v === undefined || v === null) continue;
      xml += `    <param name="${escapeAttr(k)}">${escapeText(v)}</param>\n`;
    }
    xml += '  </request>\n';
  }
  const business = spec.business;
  if (business) {
    const node = spec.businessNode ?? 'alipay';
    if (!ELEMENT_NAME.test(node)) throw structure(`invalid element name ${JSON.stringify(node)}`);
    xml += `  <response>\n    <${node}>\n`;
    for (const [k, v] of Object.entries(business)) {
      if (v === undefined || v === null) continue;
      xml += element(k, v, '      ');
    }
    xml += `    </${node}>\n  </response>\n`;
  }
  let signature = spec.signature;
  if (signature === undefined && spec.signer) {
    const content: Params | undefined =
      business ?? (spec.error !== undefined ? { error: spec.error } : undefined);
    if (content) signature = spec.signer.sign(content, charset);
  }
  if (signature !== undefined) {
    xml += element('sign', signature, '  ');
    xml += element('sign_type', spec.signer?.signType ?? spec.signType ?? 'MD5', '  ');
  }
  xml += '</alipay>';
  return encode(xml, charset);
}
