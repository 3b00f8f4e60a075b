import protobuf from 'protobufjs';

/**
 * The part of the OTLP trace protocol (opentelemetry-proto, `collector/trace/v1`, `trace/v1`, `common/v1`,
 * `resource/v1`) this receiver reads, written from the protocol's public field numbers: the request, its resources
 * and spans (ids, name, kind, times, attributes, status) and the response. Fields not declared here (events, links,
 * scopes, dropped counts) are skipped by the decoder as unknown fields. Field names are OTLP/JSON's (lowerCamelCase),
 * so a decoded protobuf request and a parsed OTLP/JSON request have one shape (`OtlpRequest`), bytes and int64 aside.
 * A failure is answered with `google.rpc.Status` (googleapis `google/rpc/status.proto`), its details an `ErrorInfo`
 * and, for a 400, a `BadRequest` (`google/rpc/error_details.proto`), each in a `google.protobuf.Any`.
 */
const DESCRIPTOR = {
  nested: {
    google: {
      nested: {
        rpc: {
          nested: {
            Status: {
              fields: {
                code: { type: 'int32', id: 1 },
                message: { type: 'string', id: 2 },
                details: { rule: 'repeated', type: 'google.protobuf.Any', id: 3 },
              },
            },
            ErrorInfo: { fields: { reason: { type: 'string', id: 1 }, domain: { type: 'string', id: 2 } } },
            BadRequest: {
              fields: { fieldViolations: { rule: 'repeated', type: 'FieldViolation', id: 1 } },
              nested: {
                FieldViolation: {
                  fields: { field: { type: 'string', id: 1 }, description: { type: 'string', id: 2 } },
                },
              },
            },
          },
        },
        protobuf: {
          nested: { Any: { fields: { typeUrl: { type: 'string', id: 1 }, value: { type: 'bytes', id: 2 } } } },
        },
      },
    },
    ExportTraceServiceRequest: { fields: { resourceSpans: { rule: 'repeated', type: 'ResourceSpans', id: 1 } } },
    ResourceSpans: {
      fields: {
        resource: { type: 'Resource', id: 1 },
        scopeSpans: { rule: 'repeated', type: 'ScopeSpans', id: 2 },
      },
    },
    Resource: { fields: { attributes: { rule: 'repeated', type: 'KeyValue', id: 1 } } },
    ScopeSpans: { fields: { spans: { rule: 'repeated', type: 'Span', id: 2 } } },
    Span: {
      fields: {
        traceId: { type: 'bytes', id: 1 },
        spanId: { type: 'bytes', id: 2 },
        parentSpanId: { type: 'bytes', id: 4 },
        name: { type: 'string', id: 5 },
        kind: { type: 'int32', id: 6 },
        startTimeUnixNano: { type: 'fixed64', id: 7 },
        endTimeUnixNano: { type: 'fixed64', id: 8 },
        attributes: { rule: 'repeated', type: 'KeyValue', id: 9 },
        status: { type: 'Status', id: 15 },
      },
    },
    Status: { fields: { message: { type: 'string', id: 2 }, code: { type: 'int32', id: 3 } } },
    KeyValue: { fields: { key: { type: 'string', id: 1 }, value: { type: 'AnyValue', id: 2 } } },
    AnyValue: {
      oneofs: {
        value: {
          oneof: ['stringValue', 'boolValue', 'intValue', 'doubleValue', 'arrayValue', 'kvlistValue', 'bytesValue'],
        },
      },
      fields: {
        stringValue: { type: 'string', id: 1 },
        boolValue: { type: 'bool', id: 2 },
        intValue: { type: 'int64', id: 3 },
        doubleValue: { type: 'double', id: 4 },
        arrayValue: { type: 'ArrayValue', id: 5 },
        kvlistValue: { type: 'KeyValueList', id: 6 },
        bytesValue: { type: 'bytes', id: 7 },
      },
    },
    ArrayValue: { fields: { values: { rule: 'repeated', type: 'AnyValue', id: 1 } } },
    KeyValueList: { fields: { values: { rule: 'repeated', type: 'KeyValue', id: 1 } } },
    ExportTraceServiceResponse: { fields: { partialSuccess: { type: 'ExportTracePartialSuccess', id: 1 } } },
    ExportTracePartialSuccess: {
      fields: { rejectedSpans: { type: 'int64', id: 1 }, errorMessage: { type: 'string', id: 2 } },
    },
  },
};

const root = protobuf.Root.fromJSON(DESCRIPTOR);
const RequestType = root.lookupType('ExportTraceServiceRequest');
const ResponseType = root.lookupType('ExportTraceServiceResponse');
const StatusType = root.lookupType('google.rpc.Status');
const ErrorInfoType = root.lookupType('google.rpc.ErrorInfo');
const BadRequestType = root.lookupType('google.rpc.BadRequest');

/** the media types of OTLP/HTTP: binary protobuf and OTLP/JSON */
export const PROTOBUF = 'application/x-protobuf';
export const JSON_TYPE = 'application/json';

/** a request's media type from its Content-Type header: lower case, without parameters (`; charset=utf-8`) */
export const mediaType = (contentType: string | string[] | undefined): string =>
  String(contentType ?? '')
    .split(';')[0]
    .trim()
    .toLowerCase();

/** OTLP's SpanKind SERVER: the span of a server handling a request (an API call) */
export const SPAN_KIND_SERVER = 2;

/** an attribute value: OTLP's AnyValue (int64 as a decimal string or a number, bytes as a Uint8Array or base64) */
export interface OtlpAnyValue {
  stringValue?: string;
  boolValue?: boolean;
  intValue?: string | number;
  doubleValue?: number | string;
  arrayValue?: { values?: OtlpAnyValue[] };
  kvlistValue?: unknown;
  bytesValue?: unknown;
}
export interface OtlpKeyValue {
  key?: string;
  value?: OtlpAnyValue;
}
export interface OtlpSpan {
  /** bytes (protobuf) or hex (OTLP/JSON) */
  traceId?: Uint8Array | string;
  spanId?: Uint8Array | string;
  parentSpanId?: Uint8Array | string;
  name?: string;
  /** the SpanKind number (OTLP/JSON: integer; its name is taken too) */
  kind?: number | string;
  /** nanoseconds since the epoch: a decimal string (int64) or a number */
  startTimeUnixNano?: string | number;
  endTimeUnixNano?: string | number;
  attributes?: OtlpKeyValue[];
  status?: { code?: number | string; message?: string };
}
export interface OtlpRequest {
  resourceSpans?: {
    resource?: { attributes?: OtlpKeyValue[] };
    scopeSpans?: { spans?: OtlpSpan[] }[];
  }[];
}

/**
 * A binary ExportTraceServiceRequest, as plain objects with int64 as decimal strings and bytes as Uint8Arrays.
 * Throws on bytes that are not one (the caller answers 400).
 */
export function decodeProtobufRequest(body: Uint8Array): OtlpRequest {
  const message = RequestType.decode(body);
  return RequestType.toObject(message, { longs: String, defaults: false, arrays: false }) as OtlpRequest;
}

/** An OTLP/JSON ExportTraceServiceRequest; throws when the body is not JSON or not an object */
export function decodeJsonRequest(body: Buffer): OtlpRequest {
  const parsed: unknown = JSON.parse(body.toString('utf8'));
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed))
    throw new Error('the body is not an ExportTraceServiceRequest object');
  return parsed as OtlpRequest;
}

/** ExportTraceServiceResponse: empty when every span was taken, else partial_success with the count and why */
export function encodeProtobufResponse(rejectedSpans: number, errorMessage: string): Uint8Array {
  const partial = rejectedSpans > 0 ? { partialSuccess: { rejectedSpans, errorMessage } } : {};
  return ResponseType.encode(ResponseType.fromObject(partial)).finish();
}

/** the same response in OTLP/JSON (int64 as a decimal string) */
export function jsonResponse(rejectedSpans: number, errorMessage: string): object {
  return rejectedSpans > 0 ? { partialSuccess: { rejectedSpans: String(rejectedSpans), errorMessage } } : {};
}

/** for tests: a response as the SDK's exporters read it */
export function decodeProtobufResponse(body: Uint8Array): { partialSuccess?: object } {
  return ResponseType.toObject(ResponseType.decode(body), { longs: Number }) as { partialSuccess?: object };
}

/** for tests: a binary request from plain objects (ids as Uint8Arrays, times as decimal strings) */
export function encodeProtobufRequest(request: object): Uint8Array {
  return RequestType.encode(RequestType.fromObject(request)).finish();
}

/**
 * What an OTLP/HTTP failure answer says: `grpcCode` the google.rpc.Code (the spec lets clients ignore it), `message`
 * for the exporter's log, `reason` meshward's stable error code (an ErrorInfo of domain `meshward`), `badRequest`
 * (a 400) adds a BadRequest describing the bad data, as the spec asks of a 400.
 */
export interface OtlpFailure {
  grpcCode: number;
  message: string;
  reason: string;
  badRequest: boolean;
}

const TYPE_URL = 'type.googleapis.com/google.rpc.';
const DOMAIN = 'meshward';

/** the failure as a binary google.rpc.Status, its details packed in Anys */
export function encodeProtobufStatus(f: OtlpFailure): Uint8Array {
  const details = [
    { typeUrl: `${TYPE_URL}ErrorInfo`, value: ErrorInfoType.encode({ reason: f.reason, domain: DOMAIN }).finish() },
  ];
  if (f.badRequest)
    details.push({
      typeUrl: `${TYPE_URL}BadRequest`,
      value: BadRequestType.encode(
        BadRequestType.fromObject({ fieldViolations: [{ description: f.message }] }),
      ).finish(),
    });
  return StatusType.encode(StatusType.fromObject({ code: f.grpcCode, message: f.message, details })).finish();
}

/** the same Status in OTLP/JSON: each Any as its type's fields beside `@type`, as the proto3 JSON mapping writes it */
export function jsonStatus(f: OtlpFailure): object {
  const details: object[] = [{ '@type': `${TYPE_URL}ErrorInfo`, reason: f.reason, domain: DOMAIN }];
  if (f.badRequest) details.push({ '@type': `${TYPE_URL}BadRequest`, fieldViolations: [{ description: f.message }] });
  return { code: f.grpcCode, message: f.message, details };
}

/** for tests: a binary Status as a client reads it, its ErrorInfo and BadRequest details decoded */
export function decodeProtobufStatus(body: Uint8Array): { code?: number; message?: string; details: object[] } {
  const status = StatusType.toObject(StatusType.decode(body)) as {
    code?: number;
    message?: string;
    details?: { typeUrl: string; value: Uint8Array }[];
  };
  const details = (status.details ?? []).map((any) => {
    const type = any.typeUrl === `${TYPE_URL}ErrorInfo` ? ErrorInfoType : BadRequestType;
    return { '@type': any.typeUrl, ...type.toObject(type.decode(any.value)) };
  });
  return { code: status.code, message: status.message, details };
}
