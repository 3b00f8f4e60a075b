import { type IncomingMessage, STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ERRORS, MeshwardError, mwError } from './errors.js';
import type { Logger } from './logger.js';
import { counter } from './metrics.js';

const httpErrors = counter('meshward_http_errors_total', 'HTTP answers with an error code', ['server', 'code']);

/** the connections `clientErrors` answered and closed, with what it answered (`MW_ERR_CLIENT_ABORTED`: nothing) */
const refusedConnections = new WeakMap<object, MeshwardError>();
/**
 * per connection, the last request answered before it had all arrived (a refusal by a hook that does not wait for the
 * body): while it is still arriving, Node's request timeout concerns a request already answered and counted
 */
const answeredEarly = new WeakMap<object, IncomingMessage>();

/**
 * answers with the catalogue error's status and `{ code, message }`, and `Retry-After` (seconds) when the catalogue
 * says how long to wait (the collector's 429 and 503 when the bus cannot take records: HTTP and OTLP exporters honour it)
 */
export function sendError(reply: FastifyReply, err: MeshwardError): FastifyReply {
  if (err.retryAfterSeconds !== undefined) reply.header('retry-after', String(err.retryAfterSeconds));
  return reply.code(err.status).send(err.toJSON());
}

interface ValidationIssue {
  instancePath: string;
  keyword: string;
  params?: { allowedValue?: unknown; additionalProperty?: unknown; type?: unknown };
  message?: string;
}

/**
 * A request that failed its route schema, said once per field and so that one can fix it: an enumeration lists its
 * values (`querystring/state must be one of open, acknowledged, resolved`) where Ajv says "must be equal to constant"
 * for each of them. Undefined when the error is not a validation error.
 */
export function validationMessage(error: unknown): string | undefined {
  const e = error as { validation?: ValidationIssue[]; validationContext?: string };
  if (!Array.isArray(e.validation) || e.validation.length === 0) return undefined;
  const byField = new Map<string, ValidationIssue[]>();
  for (const v of e.validation) byField.set(v.instancePath, [...(byField.get(v.instancePath) ?? []), v]);
  const parts: string[] = [];
  for (const [path, issues] of byField) {
    const field = `${e.validationContext ?? 'request'}${path}`;
    const allowed = issues.filter((v) => v.keyword === 'const').map((v) => String(v.params?.allowedValue));
    if (allowed.length > 0) {
      parts.push(`${field} must be one of ${allowed.join(', ')}`);
      continue;
    }
    // anyOf sums up its branches' errors; "must be null" is the branch of an optional body that has one
    const said = issues.filter((v) => v.keyword !== 'anyOf' && !(v.keyword === 'type' && v.params?.type === 'null'));
    for (const v of said.length > 0 ? said : issues)
      parts.push(
        v.keyword === 'additionalProperties'
          ? `${field} has no field ${v.params?.additionalProperty}`
          : `${field} ${v.message ?? 'is invalid'}`,
      );
  }
  return [...new Set(parts)].join('; ');
}

/**
 * The catalogue error for any error a server meets: MeshwardErrors keep their code and status, Fastify's own errors
 * (body too large, bad content type, validation) are mapped to catalogue codes, anything else is a logged 500.
 */
function catalogued(error: unknown, url: string, logger: Logger): MeshwardError {
  if (error instanceof MeshwardError) return error;
  const e = error as { code?: string; statusCode?: number; message?: string; validation?: unknown };
  if (e.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return mwError('BODY_TOO_LARGE');
  if (e.validation) return mwError('BAD_REQUEST', validationMessage(error) ?? e.message);
  if (e.statusCode === 429) return mwError('RATE_LIMITED');
  if (e.statusCode && e.statusCode >= 400 && e.statusCode < 500) return mwError('BAD_REQUEST', e.message);
  logger.error({ err: error, url }, 'unhandled error');
  return mwError('INTERNAL');
}

/**
 * Installs the catalogue as the server's error handler (see `catalogued`) and its not-found handler; every error
 * answered, a request for no route included, is counted in meshward_http_errors_total by server and code. A request
 * whose client closed the connection before it had all arrived (its body cut short) is counted under
 * `MW_ERR_CLIENT_ABORTED` and answered to no one: the connection is gone.
 */
export function installErrorHandler(app: FastifyInstance, server: string, logger: Logger): void {
  app.setErrorHandler((error: unknown, request, reply) => {
    // Node refused the request while its body was arriving and `clientErrors` answered and counted it: what reaches
    // here is the body cut short, to be answered to no one (the hooks after it see the status the client got)
    const refused = refusedConnections.get(request.raw.socket);
    if (refused && refused.code !== ERRORS.CLIENT_ABORTED.code) {
      sendError(reply, refused);
      return;
    }
    // the client closed the connection before its body was all sent: counted once (by `clientErrors` when Node saw
    // the connection end mid-request, else here: a reset), and, as Fastify does with a response it cannot write, no
    // answer is attempted
    if (refused || (request.raw.destroyed && !request.raw.complete)) {
      if (!refused) httpErrors.inc({ server, code: ERRORS.CLIENT_ABORTED.code });
      reply.raw.destroy();
      return;
    }
    const err = catalogued(error, request.url, logger);
    httpErrors.inc({ server, code: err.code });
    sendError(reply, err);
  });
  app.setNotFoundHandler((_req, reply) => {
    httpErrors.inc({ server, code: ERRORS.NOT_FOUND.code });
    sendError(reply, mwError('NOT_FOUND', 'no such route'));
  });
  app.addHook('onResponse', (request, _reply, done) => {
    if (!request.raw.complete) answeredEarly.set(request.raw.socket, request.raw);
    done();
  });
}

/** what the router refuses before any route, hook or error handler runs, said without echoing the path */
const ROUTER_REFUSALS: Record<string, string> = {
  FST_ERR_BAD_URL: 'the path is not valid percent-encoding',
  FST_ERR_MAX_PARAM_LENGTH: 'a path parameter is too long',
};

/**
 * Fastify's `frameworkErrors` option, given when the server is made (`Fastify({ frameworkErrors })`): the requests
 * its router refuses before any route or error handler runs (a path that is not valid percent-encoding such as
 * `/v1/alerts/%ff`, a path parameter past `maxParamLength`) get a catalogue answer and are counted like every other
 * error, where Fastify would send its own body without a code.
 */
export function frameworkErrors(server: string, logger: Logger) {
  return (error: FastifyError, request: FastifyRequest, reply: FastifyReply): void => {
    const refusal = Object.hasOwn(ROUTER_REFUSALS, error.code) ? ROUTER_REFUSALS[error.code] : undefined;
    const err = refusal ? mwError('BAD_REQUEST', refusal) : catalogued(error, request.url, logger);
    httpErrors.inc({ server, code: err.code });
    sendError(reply, err);
  };
}

/** Node's own bound on a request's line and headers (`headersTimeout`), kept unless the request timeout is shorter */
const HEADERS_TIMEOUT_MS = 60_000;

/**
 * Fastify's options that bound how long a request may take to arrive, line, headers and body, before Node refuses it
 * (408 `MW_ERR_REQUEST_TIMEOUT`, see `clientErrors`): a client that sends its body a byte at a time no longer holds
 * a connection and its buffers open for ever (Fastify's default `requestTimeout` is 0, no bound). The line and headers
 * keep Node's 60 s, or the request timeout if shorter: when the headers' bound is the longer Node swaps the two, and a
 * 30 s request timeout would let a body take 60 s. Only the arrival is bounded: a slow answer is not cut.
 *
 * Node looks for requests past their bound every `connectionsCheckingInterval` (30 s by default, which would let a
 * 60 s bound stand for up to 90 s): here a quarter of the shorter bound, at most 5 s, so a request is refused within
 * 25 % or 5 s past its bound (60 to 65 s by default); each look is one pass over the server's open connections.
 */
export function requestTimeoutOptions(requestTimeoutMs: number) {
  const headersTimeout = Math.min(HEADERS_TIMEOUT_MS, requestTimeoutMs);
  return {
    requestTimeout: requestTimeoutMs,
    http: {
      headersTimeout,
      connectionsCheckingInterval: Math.max(1, Math.min(5_000, Math.floor(headersTimeout / 4))),
    },
  };
}

/** what Node's HTTP parser refuses before Fastify sees a request, by Node's error code; anything else is a 400 */
const clientErrorOf = (code: string | undefined): MeshwardError =>
  code === 'ERR_HTTP_REQUEST_TIMEOUT'
    ? mwError('REQUEST_TIMEOUT')
    : code === 'HPE_HEADER_OVERFLOW'
      ? mwError('HEADERS_TOO_LARGE', "the request line and headers are past the server's limit")
      : mwError('BAD_REQUEST', 'the request is not valid HTTP/1.1');

/**
 * Fastify's `clientErrorHandler` option, given when the server is made: a request Node's own parser refuses (a request
 * line or header that is not HTTP, headers past `maxHeaderSize`, a request that did not all arrive within the bounds of
 * `requestTimeoutOptions`, its body included) gets a catalogue answer (400 `MW_ERR_BAD_REQUEST`, 431
 * `MW_ERR_HEADERS_TOO_LARGE`, 408 `MW_ERR_REQUEST_TIMEOUT`) and is counted like every other error, where Fastify would
 * write its own body without a code. The connection is closed after it, as Node does: the parser cannot tell where the
 * next request would begin. A connection the client reset, or already closed, gets nothing and is not counted here:
 * there is no one to answer. A client that closed its side before its request was all sent gets nothing either and is
 * counted under `MW_ERR_CLIENT_ABORTED` (one that reset the connection mid-body is counted by the error handler).
 * A request refused while its body was arriving was already handed to Fastify: the body it then reads is cut short,
 * and the error handler (`installErrorHandler`) does not count that a second time. Conversely, a request a hook
 * answered before its body came (a 401 that does not wait for the body), whose body then times out or is cut short,
 * is neither answered nor counted a second time: the connection is closed.
 */
export function clientErrors(server: string, logger: Logger) {
  return (error: Error & { code?: string }, socket: Duplex): void => {
    if (error.code === 'ECONNRESET' || socket.destroyed) return;
    if (answeredEarly.get(socket)?.complete === false) {
      // the request was answered (and counted) before its body came, which then timed out or was cut short: closed,
      // as Node does, without a second answer or count
      socket.destroy();
      return;
    }
    if (error.code === 'HPE_INVALID_EOF_STATE') {
      // the client closed its side before its request was all sent: there is no one to answer
      refusedConnections.set(socket, mwError('CLIENT_ABORTED'));
      httpErrors.inc({ server, code: ERRORS.CLIENT_ABORTED.code });
      socket.destroy();
      return;
    }
    const err = clientErrorOf(error.code);
    if (socket.writable) {
      refusedConnections.set(socket, err);
      httpErrors.inc({ server, code: err.code });
      logger.debug({ server, code: err.code, parser: error.code }, 'malformed HTTP request refused');
      const body = JSON.stringify(err.toJSON());
      socket.write(
        `HTTP/1.1 ${err.status} ${STATUS_CODES[err.status]}\r\nContent-Type: application/json; charset=utf-8\r\n` +
          `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
      );
    }
    socket.destroy(error);
  };
}

/**
 * The Fastify options every meshward server is made with, by its name in meshward_http_errors_total: the router's and
 * Node's parser's refusals answered from the catalogue and counted (`frameworkErrors`, `clientErrors`), and the bound
 * on how long a request may take to arrive (`requestTimeoutOptions`). `installErrorHandler` completes it once made.
 */
export const catalogueServerOptions = (server: string, logger: Logger, requestTimeoutMs: number) => ({
  frameworkErrors: frameworkErrors(server, logger),
  clientErrorHandler: clientErrors(server, logger),
  ...requestTimeoutOptions(requestTimeoutMs),
});
