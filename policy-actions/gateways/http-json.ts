import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { mwError } from '../../pipeline/core/errors.js';

/**
 * A small HTTP client for gateway control planes (Kubernetes API, Consul, Kong Admin API): JSON in and out,
 * a custom CA for https, a timeout. Transport errors are ADAPTER_FAILED (retryable); statuses are the caller's.
 */
export interface HttpEndpoint {
  /** e.g. https://kubernetes.default.svc, http://127.0.0.1:8500 */
  baseUrl: string;
  /** PEM of the CA that signed the server certificate (https) */
  ca?: string;
  /** sent on every request (auth headers); never logged */
  headers?: Record<string, string>;
  timeoutMs: number;
}

export interface HttpAnswer {
  status: number;
  /** parsed JSON, or undefined when the body is empty or not JSON */
  body: unknown;
  text: string;
}

export function callJson(
  ep: HttpEndpoint,
  method: string,
  path: string,
  opts: { body?: unknown; contentType?: string } = {},
): Promise<HttpAnswer> {
  // path (with its query) goes after the base URL's own path, e.g. a Kong admin behind /admin
  const base = new URL(ep.baseUrl);
  const url = new URL(`${base.origin}${base.pathname.replace(/\/$/, '')}${path}`);
  const payload = opts.body === undefined ? undefined : JSON.stringify(opts.body);
  const headers: Record<string, string> = { accept: 'application/json', ...ep.headers };
  if (payload !== undefined) {
    headers['content-type'] = opts.contentType ?? 'application/json';
    headers['content-length'] = String(Buffer.byteLength(payload));
  }
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = send(url, { method, headers, ca: ep.ca, timeout: ep.timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', (err) => reject(mwError('ADAPTER_FAILED', `${method} ${url.pathname}: ${err.message}`)));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let body: unknown;
        try {
          body = text.length > 0 ? JSON.parse(text) : undefined;
        } catch {
          body = undefined;
        }
        resolve({ status: res.statusCode ?? 0, body, text });
      });
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${ep.timeoutMs} ms`)));
    req.on('error', (err) =>
      reject(mwError('ADAPTER_FAILED', `${method} ${url.pathname}: ${err.message}`, undefined, err)),
    );
    req.end(payload);
  });
}

/**
 * Turn an unexpected status into a catalogue error: 429 and 5xx are retryable ADAPTER_FAILED, 401/403 FORBIDDEN,
 * 409 CONFLICT, 404 NOT_FOUND, other 4xx BAD_REQUEST. The detail holds the start of the answer (never headers).
 */
export function statusError(what: string, answer: HttpAnswer): Error {
  const detail = `${what}: HTTP ${answer.status} ${answer.text.slice(0, 200)}`;
  if (answer.status === 429 || answer.status >= 500 || answer.status === 0) return mwError('ADAPTER_FAILED', detail);
  if (answer.status === 401 || answer.status === 403) return mwError('FORBIDDEN', detail);
  if (answer.status === 409) return mwError('CONFLICT', detail);
  if (answer.status === 404) return mwError('NOT_FOUND', detail);
  return mwError('BAD_REQUEST', detail);
}
