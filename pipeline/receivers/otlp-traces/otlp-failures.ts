import type { FastifyReply, FastifyRequest } from 'fastify';
import { PROTOBUF, encodeProtobufStatus, jsonStatus, mediaType } from './otlp-protocol.js';

/**
 * google.rpc.Code by HTTP status, as googleapis' `google/rpc/code.proto` pairs them (413 and 415, which it does not
 * name, are arguments the client can fix: INVALID_ARGUMENT); any other status is UNKNOWN
 */
const GRPC_CODES: Record<number, number> = {
  400: 3, // INVALID_ARGUMENT
  401: 16, // UNAUTHENTICATED
  403: 7, // PERMISSION_DENIED
  404: 5, // NOT_FOUND
  408: 4, // DEADLINE_EXCEEDED
  413: 3,
  415: 3,
  429: 8, // RESOURCE_EXHAUSTED
  431: 3,
  499: 1, // CANCELLED
  500: 13, // INTERNAL
  502: 14, // UNAVAILABLE
  503: 14,
  504: 4,
};
const UNKNOWN = 2;

/** the collector's catalogue answer `{ code, message }` in a serialized body, or undefined when it is not one */
function catalogueAnswer(payload: string): { code: string; message: string } | undefined {
  try {
    const body: unknown = JSON.parse(payload);
    if (body === null || typeof body !== 'object') return undefined;
    const { code, message } = body as Record<string, unknown>;
    return typeof code === 'string' && typeof message === 'string' ? { code, message } : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The OTLP route's `onSend` hook: a refusal, which the collector's error handler answered (and counted) with its
 * catalogue JSON `{ code, message }`, goes out as OTLP/HTTP wants a 4xx or 5xx, a `google.rpc.Status` in the
 * request's encoding: binary with `Content-Type: application/x-protobuf` for a protobuf request, OTLP/JSON for any
 * other (a JSON request, or a content type the route refused, as the OpenTelemetry Collector's receiver answers it).
 * Meshward's stable code leads the message (`MW_ERR_BAD_REQUEST: …`, what exporters log) and is the reason of an
 * ErrorInfo detail; the status and headers (Retry-After on 429 and 503) stay as the error handler set them. Only this
 * route's answers pass here: the collector's other routes keep the catalogue JSON.
 */
export async function otlpFailureBody(request: FastifyRequest, reply: FastifyReply, payload: unknown) {
  if (reply.statusCode < 400 || typeof payload !== 'string') return payload;
  const answer = catalogueAnswer(payload);
  if (!answer) return payload;
  const failure = {
    grpcCode: GRPC_CODES[reply.statusCode] ?? UNKNOWN,
    message: `${answer.code}: ${answer.message}`,
    reason: answer.code,
    badRequest: reply.statusCode === 400,
  };
  if (mediaType(request.headers['content-type']) === PROTOBUF) {
    reply.type(PROTOBUF);
    return Buffer.from(encodeProtobufStatus(failure));
  }
  return JSON.stringify(jsonStatus(failure));
}
