import type { TLSSocket } from 'node:tls';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { type CapturedRequest, tlsPeerOf } from './record-builder.js';

/**
 * The recording hot path: onResponse only copies a few references and numbers into a preallocated slot; the
 * records are built (credential hash lookup, JWT labels, trace context, redaction, ids) by `process` in one batch per
 * event-loop turn (setImmediate), never inside the hook. Bounded: when `capacity` requests are waiting (the loop is
 * starved), further requests are not recorded and `onDrop` counts them. `process` errors go to `onError`, never up.
 */
export class RequestCapture {
  private readonly slots: CapturedRequest[];
  private count = 0;
  private scheduled = false;
  private readonly drainSoon = (): void => {
    this.scheduled = false;
    this.drain();
  };

  constructor(
    capacity: number,
    private readonly process: (captured: CapturedRequest) => void,
    private readonly onDrop: () => void,
    private readonly onError: (err: unknown) => void,
  ) {
    this.slots = Array.from({ length: capacity }, () => ({
      request: undefined,
      reply: undefined,
      route: undefined,
      ip: undefined,
      peer: undefined,
      endedAt: 0,
      durationMs: 0,
    }));
  }

  get pending(): number {
    return this.count;
  }

  /** called in onResponse: O(1), no allocation, never throws for a full buffer */
  add(request: FastifyRequest, reply: FastifyReply, route: string | undefined): void {
    this.put(request, reply, route, reply.elapsedTime);
  }

  /** called in onRequestAbort: a request without a response, `durationMs` until the abort */
  addAborted(request: FastifyRequest, route: string | undefined, durationMs: number): void {
    this.put(request, undefined, route, durationMs);
  }

  private put(
    request: FastifyRequest,
    reply: FastifyReply | undefined,
    route: string | undefined,
    durationMs: number,
  ): void {
    if (this.count === this.slots.length) {
      this.onDrop();
      return;
    }
    const s = this.slots[this.count++];
    s.request = request;
    s.reply = reply;
    s.route = route;
    s.ip = request.ip;
    s.peer = tlsPeerOf(request.raw.socket as TLSSocket);
    s.durationMs = durationMs;
    s.endedAt = Date.now();
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(this.drainSoon);
    }
  }

  /** process every captured request now (also called at close, so nothing captured is left behind) */
  drain(): void {
    const n = this.count;
    for (let i = 0; i < n; i++) {
      const s = this.slots[i];
      try {
        this.process(s);
      } catch (err) {
        this.onError(err);
      }
      // release the request and reply for the garbage collector
      s.request = undefined;
      s.reply = undefined;
      s.peer = undefined;
    }
    this.count = 0;
  }
}

/**
 * Reads a request's route template (`/orders/:id`) without `request.routeOptions`, whose getter builds a dozen-field
 * object on every call: the template comes from Fastify's route context (the object that getter reads
 * `config.url` from), found once by its symbol's description. When a Fastify version stores it differently, every
 * call falls back to `request.routeOptions.url`: slower, same value (the plugin tests check the fast path is used).
 */
export function routeTemplateReader(): ((request: FastifyRequest) => string | undefined) & { fast(): boolean } {
  let context: symbol | null | undefined;
  const read = (request: FastifyRequest): string | undefined => {
    if (context === undefined) {
      context = Object.getOwnPropertySymbols(request).find((s) => s.description === 'fastify.context') ?? null;
    }
    if (context !== null) {
      const c = (request as unknown as Record<symbol, { config?: { url?: string } } | undefined>)[context];
      if (c) return c.config?.url;
    }
    return request.routeOptions.url;
  };
  return Object.assign(read, { fast: () => typeof context === 'symbol' });
}
