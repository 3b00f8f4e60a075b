import { type Context, context, propagation, type Span, SpanStatusCode, trace } from '@opentelemetry/api';

/**
 * The pipeline traces itself through @opentelemetry/api: spans for ingest, publish, consume and detect, with the
 * trace context carried in bus message headers (W3C traceparent). Without a registered OpenTelemetry SDK every call
 * here is a no-op; see README "Tracing" for how to register one.
 */
export const tracer = trace.getTracer('meshward');

export async function inSpan<T>(
  name: string,
  attrs: Record<string, string | number>,
  fn: (span: Span) => Promise<T>,
  parent?: Context,
): Promise<T> {
  return tracer.startActiveSpan(name, { attributes: attrs }, parent ?? context.active(), async (span) => {
    try {
      return await fn(span);
    } catch (err) {
      span.recordException(err as Error);
      span.setStatus({ code: SpanStatusCode.ERROR });
      throw err;
    } finally {
      span.end();
    }
  });
}

/** headers carrying the active trace context (empty when tracing is off) */
export function traceHeaders(): Record<string, string> {
  const carrier: Record<string, string> = {};
  propagation.inject(context.active(), carrier);
  return carrier;
}

/** the context a message's headers carry */
export function contextFromHeaders(headers: Record<string, string>): Context {
  return propagation.extract(context.active(), headers);
}
