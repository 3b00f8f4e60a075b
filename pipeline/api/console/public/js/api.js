// The analyst API client: the credential lives in sessionStorage (gone when the tab closes) and goes out as
// X-API-Key, or as a bearer token when it is a JWT. Paths are relative so the console also works under a prefix.

const STORAGE_KEY = 'meshward.credential';

export class ApiError extends Error {
  /**
   * @param {number} status
   * @param {string} code
   * @param {string} message
   * @param {unknown} [details] what the API adds to some errors (MW_ERR_ALERT_OWNED: `{ assignee }`)
   */
  constructor(status, code, message, details) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details;
  }
}

export const credential = () => sessionStorage.getItem(STORAGE_KEY);
/** @param {string} value */
export const saveCredential = (value) => sessionStorage.setItem(STORAGE_KEY, value);
export const clearCredential = () => sessionStorage.removeItem(STORAGE_KEY);

/** @param {string} cred */
const looksLikeJwt = (cred) => /^[\w-]+\.[\w-]+\.[\w-]+$/.test(cred);

/**
 * @param {string} cred
 * @returns {Record<string, string>}
 */
export const authHeaders = (cred) => (looksLikeJwt(cred) ? { authorization: `Bearer ${cred}` } : { 'x-api-key': cred });

/** fired when the server refuses the stored credential (expired token, key revoked): the app signs out */
export const UNAUTHENTICATED_EVENT = 'meshward:unauthenticated';

/**
 * @param {Response} res
 * @returns {Promise<ApiError>}
 */
async function errorOf(res) {
  let code = `HTTP_${res.status}`;
  let message = res.statusText || 'request failed';
  /** @type {unknown} */
  let details;
  try {
    const body = await res.json();
    if (body && typeof body.code === 'string') code = body.code;
    if (body && typeof body.message === 'string') message = body.message;
    details = body?.details;
  } catch {
    // not JSON: keep the status line
  }
  return new ApiError(res.status, code, message, details);
}

/**
 * Calls the API and returns the parsed JSON body. Throws ApiError on a non-2xx answer.
 * @param {string} path e.g. `v1/alerts?limit=50`
 * @param {{ method?: string, body?: unknown, signal?: AbortSignal, cred?: string }} [o]
 * @returns {Promise<any>}
 */
export async function api(path, o = {}) {
  const cred = o.cred ?? credential();
  /** @type {Record<string, string>} */
  const headers = { accept: 'application/json', ...(cred ? authHeaders(cred) : {}) };
  if (o.body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(path, {
    method: o.method ?? 'GET',
    headers,
    body: o.body === undefined ? undefined : JSON.stringify(o.body),
    signal: o.signal,
    cache: 'no-store',
  });
  if (!res.ok) {
    const err = await errorOf(res);
    if (res.status === 401 && !o.cred) window.dispatchEvent(new CustomEvent(UNAUTHENTICATED_EVENT));
    throw err;
  }
  return res.status === 204 ? null : res.json();
}

/**
 * @param {Record<string, string | number | undefined | null>} params
 * @returns {string} `?a=1&b=2`, or '' when nothing is set
 */
export function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : '';
}

/**
 * Follows a Server-Sent Events endpoint with fetch (EventSource cannot send the auth header), reconnecting with
 * jittered exponential backoff. `onOpen` runs on every (re)connection so the caller can catch up on what it missed.
 * Stops on abort, or when the server refuses the credential.
 * @param {string} path
 * @param {{
 *   signal: AbortSignal,
 *   onEvent: (event: string, data: string) => void,
 *   onOpen?: () => void,
 *   onState?: (state: 'live' | 'connecting' | 'offline') => void,
 * }} o
 */
export async function followStream(path, o) {
  let delay = 1000;
  while (!o.signal.aborted) {
    o.onState?.('connecting');
    try {
      const cred = credential();
      if (!cred) return;
      const res = await fetch(path, {
        headers: { accept: 'text/event-stream', ...authHeaders(cred) },
        signal: o.signal,
        cache: 'no-store',
      });
      if (res.status === 401 || res.status === 403) {
        o.onState?.('offline');
        if (res.status === 401) window.dispatchEvent(new CustomEvent(UNAUTHENTICATED_EVENT));
        return;
      }
      if (!res.ok || !res.body) throw await errorOf(res);
      delay = 1000;
      o.onState?.('live');
      o.onOpen?.();
      await readEvents(res.body, o.onEvent);
    } catch (err) {
      if (o.signal.aborted) return;
      console.warn('alert stream interrupted', err);
    }
    if (o.signal.aborted) return;
    o.onState?.('offline');
    const wait = delay / 2 + Math.random() * (delay / 2);
    delay = Math.min(delay * 2, 30_000);
    await new Promise((resolve) => {
      const t = setTimeout(resolve, wait);
      o.signal.addEventListener('abort', () => {
        clearTimeout(t);
        resolve(undefined);
      });
    });
  }
}

/**
 * Parses a text/event-stream body: frames separated by a blank line, `event:` and `data:` fields, `:` comments.
 * @param {ReadableStream<Uint8Array>} body
 * @param {(event: string, data: string) => void} onEvent
 */
export async function readEvents(body, onEvent) {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += decoder.decode(value, { stream: true });
    let end = buffer.search(/\r?\n\r?\n/);
    while (end >= 0) {
      const frame = buffer.slice(0, end);
      buffer = buffer.slice(end).replace(/^\r?\n\r?\n/, '');
      dispatchFrame(frame, onEvent);
      end = buffer.search(/\r?\n\r?\n/);
    }
  }
}

/**
 * @param {string} frame
 * @param {(event: string, data: string) => void} onEvent
 */
function dispatchFrame(frame, onEvent) {
  let event = 'message';
  /** @type {string[]} */
  const data = [];
  for (const line of frame.split(/\r?\n/)) {
    if (line === '' || line.startsWith(':')) continue;
    const i = line.indexOf(':');
    const field = i < 0 ? line : line.slice(0, i);
    const value = i < 0 ? '' : line.slice(i + 1).replace(/^ /, '');
    if (field === 'event') event = value;
    else if (field === 'data') data.push(value);
  }
  if (data.length > 0) onEvent(event, data.join('\n'));
}
