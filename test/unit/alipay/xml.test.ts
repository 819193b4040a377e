import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import iconv from 'iconv-lite';
import { MalformedXmlError } from '../../../src/alipay/errors';
import { createMd5Signer, createRsaSigner, preSignString } from '../../../src/alipay/signing';
import {
  parseGatewayXml,
  renderGatewayResponse,
  verifyGatewayEnvelope,
  type GatewayEnvelope,
} from '../../../src/alipay/xml';
import {
  CANCEL_REAL_GBK_XML,
  CANCEL_XML,
  CREATE_XML,
  MADE_UP_KEY,
  MODIFYSTATUS_XML,
  QUERY_XML,
  REFUND_OVER_XML,
  REFUND_XML,
} from './fixtures';
import { testKeyPair } from './helpers';

const md5 = createMd5Signer(MADE_UP_KEY);

function parse(xml: string | Buffer): GatewayEnvelope {
  return parseGatewayXml(typeof xml === 'string' ? Buffer.from(xml, 'utf8') : xml);
}

function rejects(xml: string | Buffer, reason: MalformedXmlError['reason'], options = {}): void {
  assert.throws(
    () => parseGatewayXml(typeof xml === 'string' ? Buffer.from(xml, 'utf8') : xml, options),
    (err: unknown) =>
      err instanceof MalformedXmlError &&
      err.reason === reason &&
      err.code === 'ALIPAY_MALFORMED_XML',
  );
}

describe('signed XML examples of MAPI.md verify with the MADE-UP key', () => {
  const cases = [
    ['§6.4 CREATE', CREATE_XML, 'qrcodeinfo', '32982cc6c6a2ca1a8409cce88f8bdaa3'],
    ['§8.3 MODIFYSTATUS', MODIFYSTATUS_XML, 'qrcodeinfo', '6252c8a5c64fad95fede36c876407fba'],
    ['§9.4 QUERY', QUERY_XML, 'alipay', '5dd86de464bc67e6218a5dd821962578'],
    ['§10.4 CANCEL', CANCEL_XML, 'alipay', 'a5d935f037683e1a737753471441dd0c'],
    ['§11.4 REFUND', REFUND_XML, 'alipay', '3e6eda8dd780b32881214fb085216ffc'],
    ['§11.4 REFUND over-refund', REFUND_OVER_XML, 'alipay', 'b9884cff24b43f51c1a03ba8be2e4086'],
  ] as const;
  for (const [name, xml, node, sign] of cases) {
    it(name, () => {
      const env = parse(xml);
      assert.equal(env.isSuccess, true);
      assert.equal(env.businessNode, node);
      assert.equal(env.sign, sign);
      assert.equal(env.signType, 'MD5');
      assert.equal(env.charset, 'UTF-8');
      assert.equal(verifyGatewayEnvelope(env, md5), true);
      const tampered = { ...env, business: { ...env.business, injected: 'x' } };
      assert.equal(verifyGatewayEnvelope(tampered, md5), false);
    });
  }

  it('decodes entities in business values before signing (§6.4 &amp;)', () => {
    const env = parse(CREATE_XML);
    assert.equal(
      preSignString(env.business ?? {}),
      'qrcode=https://qr.alipay.com/baxdemo0merchantqr000001&qrcode_img_url=https://mobilecodec.alipay.com/show.htm?code=baxdemo0merchantqr000001&picSize=L',
    );
    assert.equal(env.request['service'], 'alipay.commerce.qrcode.create');
    assert.equal(env.request['biz_data'], '{"secondary_merchant_id":"M0001", ... }');
  });

  it('keeps values verbatim as strings (8.80, 0001, 7.12340000)', () => {
    const env = parse(QUERY_XML);
    assert.equal(env.business?.['trans_amount'], '8.80');
    assert.equal(env.business?.['exchange_rate'], '7.12340000');
    assert.equal(env.business?.['alipay_buyer_login_id'], '135****8888');
  });

  it('reads the real 2014 GBK answer (declaration-less) structure', () => {
    const env = parseGatewayXml(iconv.encode(CANCEL_REAL_GBK_XML, 'gbk'), { charset: 'GBK' });
    assert.equal(env.charset, 'GBK');
    assert.equal(env.request['service'], 'alipay.acquire.cancel');
    assert.equal(env.business?.['retry_flag'], 'N');
    assert.equal(verifyGatewayEnvelope(env, md5), false); // its signature is elided
  });
});

describe('renderGatewayResponse', () => {
  it('reproduces the reference examples byte for byte', () => {
    const fromDoc = (xml: string, node?: string) => {
      const env = parse(xml);
      return renderGatewayResponse({
        request: Object.keys(env.request).length ? env.request : undefined,
        business: env.business,
        businessNode: node ?? env.businessNode,
        signer: md5,
        declaration: xml.startsWith('<?xml'),
      }).toString('utf8');
    };
    assert.equal(fromDoc(CANCEL_XML), CANCEL_XML);
    assert.equal(fromDoc(QUERY_XML), QUERY_XML);
    assert.equal(fromDoc(REFUND_XML), REFUND_XML);
    assert.equal(fromDoc(REFUND_OVER_XML), REFUND_OVER_XML);
    assert.equal(fromDoc(MODIFYSTATUS_XML), MODIFYSTATUS_XML);
    assert.equal(fromDoc(CREATE_XML), CREATE_XML);
  });

  it('round-trips GBK text with a GBK declaration and signature', () => {
    const bytes = renderGatewayResponse({
      business: { result_code: 'SUCCESS', detail_error_des: '交易已关闭 <&>' },
      signer: md5,
      charset: 'GBK',
    });
    assert.ok(bytes.toString('latin1').startsWith('<?xml version="1.0" encoding="GBK"?>'));
    const env = parseGatewayXml(bytes);
    assert.equal(env.charset, 'GBK');
    assert.equal(env.business?.['detail_error_des'], '交易已关闭 <&>');
    assert.equal(verifyGatewayEnvelope(env, md5), true);
    // Decoding the same bytes as UTF-8 is refused, not silently mangled.
    const relabelled = Buffer.from(
      bytes.toString('latin1').replace('encoding="GBK"', 'encoding="UTF-8"'),
      'latin1',
    );
    rejects(relabelled, 'NOT_XML');
  });

  it('renders a signed F answer over error=<code>', () => {
    const env = parse(
      renderGatewayResponse({ isSuccess: false, error: 'ILLEGAL_SIGN', signer: md5 }).toString(),
    );
    assert.equal(env.isSuccess, false);
    assert.equal(env.error, 'ILLEGAL_SIGN');
    assert.equal(env.business, undefined);
    assert.equal(env.sign, md5.sign({ error: 'ILLEGAL_SIGN' }));
    assert.equal(verifyGatewayEnvelope(env, md5), true);
  });

  it('RSA2-signed answers verify with the peer public key only', () => {
    const alipay = testKeyPair('alipay');
    const merchant = testKeyPair('merchant');
    const gateway = createRsaSigner({
      signType: 'RSA2',
      privateKey: alipay.privateKey,
      peerPublicKey: merchant.publicKey,
    });
    const engine = createRsaSigner({
      signType: 'RSA2',
      privateKey: merchant.privateKey,
      peerPublicKey: alipay.publicKey,
    });
    const env = parse(
      renderGatewayResponse({
        business: { result_code: 'SUCCESS', qrcode: 'q+/=' },
        signer: gateway,
      }),
    );
    assert.equal(env.signType, 'RSA2');
    assert.equal(verifyGatewayEnvelope(env, engine), true);
    assert.equal(verifyGatewayEnvelope(env, md5), false); // sign_type mismatch
  });

  it('a forged signature can be injected for tests and fails verification', () => {
    const env = parse(
      renderGatewayResponse({ business: { result_code: 'SUCCESS' }, signature: '0'.repeat(32) }),
    );
    assert.equal(verifyGatewayEnvelope(env, md5), false);
  });
});

describe('hostile and malformed XML: typed errors, no crash', () => {
  it('non-XML bodies', () => {
    rejects('', 'EMPTY');
    rejects('   \n', 'EMPTY');
    rejects('hello world', 'NOT_XML');
    rejects('{"is_success":"T"}', 'NOT_XML');
    rejects('<html><body>502 Bad Gateway</body></html>', 'UNEXPECTED_STRUCTURE');
  });

  it('truncated documents at every cut point', () => {
    for (let cut = 1; cut < CANCEL_XML.length - 1; cut += 7) {
      assert.throws(() => parse(CANCEL_XML.slice(0, cut)), MalformedXmlError, `cut at ${cut}`);
    }
  });

  it('mismatched tags, two roots, text outside the root', () => {
    rejects('<alipay><is_success>T</is_succes></alipay>', 'NOT_WELL_FORMED');
    rejects('<alipay><is_success>T</is_success></alipay><alipay></alipay>', 'NOT_WELL_FORMED');
    rejects('<alipay><is_success>T</is_success></alipay>trailing', 'NOT_WELL_FORMED');
  });

  it('XXE and billion-laughs documents are refused before parsing', () => {
    rejects(
      '<?xml version="1.0"?><!DOCTYPE alipay [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><alipay><is_success>T</is_success><error>&xxe;</error></alipay>',
      'FORBIDDEN_DECLARATION',
    );
    const lol = ['<!ENTITY lol "lol">'];
    for (let i = 1; i < 10; i++)
      lol.push(`<!ENTITY lol${i} "${`&lol${i === 1 ? '' : i - 1};`.repeat(10)}">`);
    rejects(
      `<?xml version="1.0"?><!DOCTYPE lolz [${lol.join('')}]><alipay><a>&lol9;</a></alipay>`,
      'FORBIDDEN_DECLARATION',
    );
  });

  it('undeclared entities and bare ampersands', () => {
    rejects('<alipay><is_success>T</is_success><error>&xxe;</error></alipay>', 'NOT_WELL_FORMED');
    rejects('<alipay><is_success>T</is_success><error>a & b</error></alipay>', 'NOT_WELL_FORMED');
    const env = parse('<alipay><is_success>F</is_success><error>&#x41;&#66;&lt;</error></alipay>');
    assert.equal(env.error, 'AB<');
  });

  it('huge documents are refused by size before parsing', () => {
    const huge = `<alipay><is_success>T</is_success><error>${'A'.repeat(300 * 1024)}</error></alipay>`;
    rejects(huge, 'TOO_LARGE');
    rejects(CANCEL_XML, 'TOO_LARGE', { maxBytes: 100 });
  });

  it('deep nesting is refused', () => {
    const deep = `<alipay>${'<a>'.repeat(5000)}${'</a>'.repeat(5000)}</alipay>`;
    assert.throws(() => parse(deep), MalformedXmlError);
  });

  it('ambiguous business nodes: duplicated fields, two nodes, nested fields', () => {
    const wrap = (inner: string) =>
      `<alipay><is_success>T</is_success><response>${inner}</response><sign>x</sign></alipay>`;
    rejects(
      wrap('<alipay><result_code>SUCCESS</result_code><result_code>FAIL</result_code></alipay>'),
      'UNEXPECTED_STRUCTURE',
    );
    rejects(
      wrap('<alipay><result_code>SUCCESS</result_code></alipay><other><a>1</a></other>'),
      'UNEXPECTED_STRUCTURE',
    );
    rejects(wrap('<alipay><a><b>1</b></a></alipay>'), 'UNEXPECTED_STRUCTURE');
    rejects(wrap('text'), 'UNEXPECTED_STRUCTURE');
  });

  it('prototype-polluting names are refused', () => {
    rejects(
      '<alipay><is_success>T</is_success><response><alipay><__proto__>1</__proto__></alipay></response></alipay>',
      'NOT_WELL_FORMED',
    );
    assert.equal(({} as Record<string, unknown>)['polluted'], undefined);
  });

  it('wrong root, missing or odd is_success, unsupported charset', () => {
    rejects('<root><is_success>T</is_success></root>', 'UNEXPECTED_STRUCTURE');
    rejects('<alipay><error>X</error></alipay>', 'UNEXPECTED_STRUCTURE');
    rejects('<alipay><is_success>Y</is_success></alipay>', 'UNEXPECTED_STRUCTURE');
    rejects(
      '<?xml version="1.0" encoding="Shift_JIS"?><alipay><is_success>T</is_success></alipay>',
      'NOT_XML',
    );
    rejects(Buffer.from([0x3c, 0x61, 0x3e, 0xff, 0xfe, 0x3c, 0x2f, 0x61, 0x3e]), 'NOT_XML');
  });
});
