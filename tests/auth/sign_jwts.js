// Makes the keys and tokens the JWT tests verify, with Node's own crypto
// and JWS encoding: an implementation independent of the one under test.
//   node sign_jwts.js NOW_UNIX_SECONDS HS256_SECRET
// prints {"rsaPem", "ecPem", "jwks", "tokens": {name: token}} as JSON.
'use strict';
const crypto = require('crypto');

const now = Number(process.argv[2]);
const hsSecret = process.argv[3];
const b64 = (buffer) => Buffer.from(buffer).toString('base64url');
const json = (value) => b64(JSON.stringify(value));

const rsa = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
const otherRsa = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
const ec = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
const rsaPem = rsa.publicKey.export({ type: 'spki', format: 'pem' });
const ecPem = ec.publicKey.export({ type: 'spki', format: 'pem' });

function sign(header, claims, how) {
  const input = json(header) + '.' + json(claims);
  let signature;
  if (how.hmac !== undefined) {
    signature = crypto.createHmac('sha256', how.hmac).update(input).digest();
  } else if (how.ec) {
    signature = crypto.sign('sha256', Buffer.from(input), { key: how.ec, dsaEncoding: 'ieee-p1363' });
  } else if (how.none) {
    signature = Buffer.alloc(0);
  } else {
    signature = crypto.sign('sha256', Buffer.from(input), how.rsa);
  }
  return input + '.' + b64(signature);
}

const good = { sub: 'user-1', iss: 'https://id.example', aud: 'eventlogger', exp: now + 600, iat: now };
const with_ = (changes) => Object.assign({}, good, changes);
const without = (name) => { const c = Object.assign({}, good); delete c[name]; return c; };
const rs = { rsa: rsa.privateKey };
const es = { ec: ec.privateKey };

const tokens = {
  rs_valid: sign({ alg: 'RS256', typ: 'JWT', kid: 'rsa-1' }, good, rs),
  es_valid: sign({ alg: 'ES256', kid: 'ec-1' }, good, es),
  hs_valid: sign({ alg: 'HS256', typ: 'JWT' }, good, { hmac: hsSecret }),
  rs_write_scope: sign({ alg: 'RS256' }, with_({ scope: 'openid events:write profile' }), rs),
  rs_aud_list: sign({ alg: 'RS256' }, with_({ aud: ['other', 'eventlogger'] }), rs),
  rs_within_leeway: sign({ alg: 'RS256' }, with_({ exp: now - 10 }), rs),
  rs_expired: sign({ alg: 'RS256' }, with_({ exp: now - 3600 }), rs),
  rs_not_yet: sign({ alg: 'RS256' }, with_({ nbf: now + 3600 }), rs),
  rs_wrong_issuer: sign({ alg: 'RS256' }, with_({ iss: 'https://evil.example' }), rs),
  rs_wrong_audience: sign({ alg: 'RS256' }, with_({ aud: 'someone-else' }), rs),
  rs_no_exp: sign({ alg: 'RS256' }, without('exp'), rs),
  rs_no_sub: sign({ alg: 'RS256' }, without('sub'), rs),
  rs_bad_sub: sign({ alg: 'RS256' }, with_({ sub: 'a\u0001b' }), rs),
  rs_string_exp: sign({ alg: 'RS256' }, with_({ exp: String(now + 600) }), rs),
  rs_crit: sign({ alg: 'RS256', crit: ['exp'] }, good, rs),
  rs_other_key: sign({ alg: 'RS256' }, good, { rsa: otherRsa.privateKey }),
  es_wrong_kid: sign({ alg: 'ES256', kid: 'ec-unknown' }, good, es),
  alg_none: sign({ alg: 'none', typ: 'JWT' }, good, { none: true }),
  // The classic confusion: HS256 "signed" with the RSA public key as secret.
  hs_with_public_key: sign({ alg: 'HS256' }, good, { hmac: rsaPem }),
  rs_as_ps256: sign({ alg: 'PS256' }, good, rs),
};
// The valid RS256 token with its payload swapped for another user's.
const parts = tokens.rs_valid.split('.');
tokens.rs_tampered = parts[0] + '.' + json(with_({ sub: 'user-2' })) + '.' + parts[2];

const jwk = (key, extra) => Object.assign(key.export({ format: 'jwk' }), extra);
const jwks = JSON.stringify({
  keys: [
    jwk(ec.publicKey, { kid: 'ec-1', use: 'sig', alg: 'ES256' }),
    { kty: 'oct', k: b64('not for us'), kid: 'symmetric' },
    jwk(rsa.publicKey, { kid: 'rsa-1', use: 'sig' }),
    jwk(otherRsa.publicKey, { kid: 'rsa-enc', use: 'enc' }),
  ],
});
process.stdout.write(JSON.stringify({ rsaPem, ecPem, jwks, tokens }));
