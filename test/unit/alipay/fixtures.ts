/**
 * Signed XML examples copied verbatim from MAPI.md (§6.4, §8.3, §9.4, §10.4, §11.4).
 * Every signature was made with the MADE-UP MD5 key {@link MADE_UP_KEY}.
 */
/** MADE-UP MD5 key of MAPI.md §4.8. */
export const MADE_UP_KEY = 'mk1x9sdm2qv8t0rbz7yh3c5lw4jf6pe0';

/** The signed fields of MAPI.md vector V4 (a payment notification), without `sign`/`sign_type`. */
export const V4_NOTIFICATION_FIELDS: Readonly<Record<string, string>> = Object.freeze({
  notify_id: 'a1b2c3d4e5f60718293a4b5c6d7e8f90ab',
  notify_time: '2024-01-01 12:05:09',
  notify_type: 'trade_status_sync',
  trade_no: '2024010122001300000000000001',
  out_trade_no: '2024010100000000001',
  trade_status: 'TRADE_SUCCESS',
  total_fee: '8.80',
  currency: 'USD',
});

/** §6.4 CREATE success (business node `qrcodeinfo`). */
export const CREATE_XML = `<?xml version="1.0" encoding="UTF-8"?>
<alipay>
  <is_success>T</is_success>
  <request>
    <param name="_input_charset">UTF-8</param>
    <param name="biz_type">OVERSEASHOPQRCODE</param>
    <param name="service">alipay.commerce.qrcode.create</param>
    <param name="partner">2088101122136241</param>
    <param name="timestamp">2024-01-01 12:00:00</param>
    <param name="biz_data">{"secondary_merchant_id":"M0001", ... }</param>
  </request>
  <response>
    <qrcodeinfo>
      <qrcode>https://qr.alipay.com/baxdemo0merchantqr000001</qrcode>
      <qrcode_img_url>https://mobilecodec.alipay.com/show.htm?code=baxdemo0merchantqr000001&amp;picSize=L</qrcode_img_url>
    </qrcodeinfo>
  </response>
  <sign>32982cc6c6a2ca1a8409cce88f8bdaa3</sign>
  <sign_type>MD5</sign_type>
</alipay>`;

/** §8.3 MODIFYSTATUS. */
export const MODIFYSTATUS_XML = `<?xml version="1.0" encoding="UTF-8"?>
<alipay>
  <is_success>T</is_success>
  <request>
    <param name="_input_charset">UTF-8</param>
    <param name="service">alipay.commerce.qrcode.modifyStatus</param>
    <param name="partner">2088101122136241</param>
    <param name="biz_type">OVERSEASHOPQRCODE</param>
    <param name="qrcode">https://qr.alipay.com/baxdemo0merchantqr000001</param>
    <param name="status">STOP</param>
    <param name="timestamp">2024-01-02 09:00:00</param>
  </request>
  <response>
    <qrcodeinfo>
      <qrcode>https://qr.alipay.com/baxdemo0merchantqr000001</qrcode>
    </qrcodeinfo>
  </response>
  <sign>6252c8a5c64fad95fede36c876407fba</sign>
  <sign_type>MD5</sign_type>
</alipay>`;

/** §9.4 QUERY, paid. */
export const QUERY_XML = `<?xml version="1.0" encoding="UTF-8"?>
<alipay>
  <is_success>T</is_success>
  <request>
    <param name="_input_charset">UTF-8</param>
    <param name="service">alipay.acquire.overseas.query</param>
    <param name="partner">2088101122136241</param>
    <param name="partner_trans_id">2024010100000000001</param>
  </request>
  <response>
    <alipay>
      <alipay_buyer_login_id>135****8888</alipay_buyer_login_id>
      <alipay_buyer_user_id>2088722000000001</alipay_buyer_user_id>
      <alipay_pay_time>20240101120508</alipay_pay_time>
      <alipay_trans_id>2024010122001300000000000001</alipay_trans_id>
      <alipay_trans_status>TRADE_SUCCESS</alipay_trans_status>
      <currency>USD</currency>
      <exchange_rate>7.12340000</exchange_rate>
      <forex_total_fee>8.80</forex_total_fee>
      <out_trade_no>2024010100000000001</out_trade_no>
      <partner_trans_id>2024010100000000001</partner_trans_id>
      <result_code>SUCCESS</result_code>
      <trans_amount>8.80</trans_amount>
      <trans_amount_cny>62.69</trans_amount_cny>
      <trans_forex_rate>1</trans_forex_rate>
    </alipay>
  </response>
  <sign>5dd86de464bc67e6218a5dd821962578</sign>
  <sign_type>MD5</sign_type>
</alipay>`;

/** §10.4 CANCEL, paid trade reversed (vector V5). */
export const CANCEL_XML = `<?xml version="1.0" encoding="UTF-8"?>
<alipay>
  <is_success>T</is_success>
  <request>
    <param name="_input_charset">UTF-8</param>
    <param name="service">alipay.acquire.cancel</param>
    <param name="partner">2088101122136241</param>
    <param name="out_trade_no">2024010100000000001</param>
    <param name="timestamp">1704081909123</param>
  </request>
  <response>
    <alipay>
      <action>refund</action>
      <out_trade_no>2024010100000000001</out_trade_no>
      <result_code>SUCCESS</result_code>
      <retry_flag>N</retry_flag>
      <trade_no>2024010122001300000000000001</trade_no>
    </alipay>
  </response>
  <sign>a5d935f037683e1a737753471441dd0c</sign>
  <sign_type>MD5</sign_type>
</alipay>`;

/** §11.4 REFUND success. */
export const REFUND_XML = `<?xml version="1.0" encoding="UTF-8"?>
<alipay>
  <is_success>T</is_success>
  <request>
    <param name="_input_charset">UTF-8</param>
    <param name="service">alipay.acquire.overseas.spot.refund</param>
    <param name="partner">2088101122136241</param>
    <param name="partner_trans_id">2024010100000000001</param>
    <param name="partner_refund_id">RF-20240102-0001</param>
    <param name="refund_amount">3.30</param>
    <param name="currency">USD</param>
    <param name="is_sync">Y</param>
  </request>
  <response>
    <alipay>
      <alipay_trans_id>2024010122001300000000000001</alipay_trans_id>
      <currency>USD</currency>
      <exchange_rate>7.10250000</exchange_rate>
      <partner_refund_id>RF-20240102-0001</partner_refund_id>
      <partner_trans_id>2024010100000000001</partner_trans_id>
      <refund_amount>3.30</refund_amount>
      <refund_amount_cny>23.44</refund_amount_cny>
      <result_code>SUCCESS</result_code>
    </alipay>
  </response>
  <sign>3e6eda8dd780b32881214fb085216ffc</sign>
  <sign_type>MD5</sign_type>
</alipay>`;

/** §11.4 REFUND over-refund (no declaration, no request echo). */
export const REFUND_OVER_XML = `<alipay>
  <is_success>T</is_success>
  <response>
    <alipay>
      <error>REQUEST_AMOUNT_EXCEED</error>
      <partner_refund_id>RF-20240102-0002</partner_refund_id>
      <partner_trans_id>2024010100000000001</partner_trans_id>
      <result_code>FAIL</result_code>
    </alipay>
  </response>
  <sign>b9884cff24b43f51c1a03ba8be2e4086</sign>
  <sign_type>MD5</sign_type>
</alipay>`;

/** §9.4 real QUERY business node (no envelope). */
export const QUERY_REAL_BUSINESS_NODE = `<alipay>
  <alipay_buyer_login_id>cnb*@alitest.*</alipay_buyer_login_id>
  <alipay_buyer_user_id>2088622937243084</alipay_buyer_user_id>
  <alipay_trans_id>2019112022001443081000035414</alipay_trans_id>
  <alipay_trans_status>WAIT_BUYER_PAY</alipay_trans_status>
  <currency>USD</currency>
  <exchange_rate>6.64640000</exchange_rate>
  <forex_total_fee>0.01</forex_total_fee>
  <out_trade_no>99003911198989</out_trade_no>
  <partner_trans_id>99003911198989</partner_trans_id>
  <result_code>SUCCESS</result_code>
  <trans_amount>0.01</trans_amount>
  <trans_amount_cny>0.07</trans_amount_cny>
  <trans_forex_rate>1</trans_forex_rate>
</alipay>`;

/** §10.4 real 2014 GBK answer, signatures elided. */
export const CANCEL_REAL_GBK_XML = `<alipay>
  <is_success>T</is_success>
  <request>
    <param name="sign">(32 hex chars)</param>
    <param name="_input_charset">GBK</param>
    <param name="sign_type">MD5</param>
    <param name="service">alipay.acquire.cancel</param>
    <param name="partner">2088201565141845</param>
    <param name="out_trade_no">20140319113639839</param>
  </request>
  <response>
    <alipay>
      <out_trade_no>20140319113639839</out_trade_no>
      <result_code>SUCCESS</result_code>
      <retry_flag>N</retry_flag>
    </alipay>
  </response>
  <sign>(32 hex chars, MD5 over the business node)</sign>
  <sign_type>MD5</sign_type>
</alipay>`;
