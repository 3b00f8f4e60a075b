// meshward token hash for nginx (njs 0.7.9, Debian libnginx-mod-http-js).
// "h1:" + the first 32 hex chars of HMAC-SHA256(key, bearer token): the same keyed hash the sensors write into
// records, so the deny maps never hold a raw token. The key comes from MESHWARD_TOKEN_KEY_B64 (base64), which the
// main nginx.conf must pass through with `env MESHWARD_TOKEN_KEY_B64;`.
// biome-ignore lint/style/useNodejsImportProtocol: njs has no node: scheme
const crypto = require('crypto');

const keyB64 = process.env.MESHWARD_TOKEN_KEY_B64;
const KEY = keyB64 ? Buffer.from(keyB64, 'base64') : null;

function bearer(r) {
  const h = r.headersIn.Authorization;
  if (!h) return '';
  const m = /^Bearer\s+(\S+)\s*$/i.exec(h);
  return m ? m[1] : '';
}

function tokenHash(r) {
  const token = bearer(r);
  if (!token || !KEY) return '';
  return `h1:${crypto.createHmac('sha256', KEY).update(token).digest('hex').slice(0, 32)}`;
}

// the `sub` claim of a JWT bearer token, unverified: used to deny, never to allow (the backend verifies the token)
function jwtSub(r) {
  const parts = bearer(r).split('.');
  if (parts.length !== 3) return '';
  try {
    const claims = JSON.parse(Buffer.from(parts[1], 'base64url').toString());
    return typeof claims.sub === 'string' ? claims.sub : '';
    // biome-ignore lint/correctness/noUnusedVariables: njs 0.7 needs a catch binding
  } catch (e) {
    return '';
  }
}

export default { tokenHash, jwtSub };
