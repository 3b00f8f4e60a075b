// biome-ignore-all lint: njs 0.7 (nginx JavaScript) has no node: imports, optional chaining or optional catch binding
// njs helpers for the meshward access log (nginx njs 0.7+). No token is ever returned or logged, only its hash.
const crypto = require('crypto');

function bearer(r) {
  const auth = r.headersIn.Authorization;
  if (!auth || auth.length > 16384) return undefined;
  const m = /^\s*bearer\s+(\S+)\s*$/i.exec(auth);
  return { token: m ? m[1] : auth.trim(), isBearer: !!m };
}

// "h1:" + first 32 hex chars of HMAC-SHA256(key, token): the meshward tokenHash (sensors/common/token-hash.ts)
function tokenHash(r) {
  const b = bearer(r);
  const key = r.variables.meshward_token_hash_key;
  if (!b || !key) return '';
  return 'h1:' + crypto.createHmac('sha256', key).update(b.token).digest('hex').slice(0, 32);
}

// the `sub` claim of a bearer JWT, decoded WITHOUT verification: a label for analytics, never an identity proof
function jwtSub(r) {
  const b = bearer(r);
  if (!b || !b.isBearer) return '';
  const parts = b.token.split('.');
  if (parts.length !== 3) return '';
  try {
    const claims = JSON.parse(Buffer.from(parts[1], 'base64url').toString());
    return typeof claims.sub === 'string' ? claims.sub.slice(0, 256) : '';
  } catch (e) {
    return '';
  }
}

export default { tokenHash, jwtSub };
