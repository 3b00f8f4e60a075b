import { Type } from '@sinclair/typebox';
import type { FastifyInstance, FastifyPluginAsync, FastifyRequest } from 'fastify';
import { DecisionSchema, DecisionScope, DecisionState, DecisionType } from '../../pipeline/core/decision.js';
import { mwError } from '../../pipeline/core/errors.js';
import { counter, gauge } from '../../pipeline/core/metrics.js';
import type { DecisionChange, PolicyEngine } from './engine.js';

export interface DecisionRoutesOptions {
  engine: PolicyEngine;
  /** who is calling (set by the auth in front); recorded in the audit log */
  getActor?: (request: FastifyRequest) => string;
  /** heartbeat period of the decision stream, ms (default 15 s) */
  heartbeatMs?: number;
  /** a stream whose unsent output exceeds this many bytes is cut (slow consumer), default 1 MiB */
  maxStreamBufferBytes?: number;
}

const DecisionRef = Type.Unsafe<unknown>({ $ref: `${DecisionSchema.$id}#` });
const ErrorBody = Type.Object({ code: Type.String(), message: Type.String() });
const IdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 128 }) });
const AuditEntrySchema = Type.Object({
  id: Type.String(),
  ts: Type.Number(),
  actor: Type.String(),
  action: Type.String(),
  decisionId: Type.String(),
  alertId: Type.Optional(Type.String()),
  adapter: Type.Optional(Type.String()),
  outcome: Type.String(),
  detail: Type.String(),
});

const streamsOpen = gauge('meshward_decision_streams_open', 'Open enforcement-point decision streams');
const streamsCut = counter(
  'meshward_decision_streams_cut_total',
  'Decision streams cut because the client fell behind',
);

/** a feed line for a decision change, or null when enforcement points need not hear about it */
export function feedLine(change: DecisionChange): string | null {
  const d = change.decision;
  if (d.simulated) return null;
  if (d.state === 'active') return `${JSON.stringify({ type: 'upsert', decision: d })}\n`;
  if (change.previousState === 'active') return `${JSON.stringify({ type: 'remove', id: d.id })}\n`;
  return null;
}

/**
 * The decisions API and the enforcement-point feed. Register under the analyst API with authentication in front;
 * this plugin does no auth of its own and takes the caller's identity from `getActor`. Nor has it an error handler:
 * the API server's (`installErrorHandler`) answers its refusals with their catalogue code and counts them.
 */
export const decisionRoutes: FastifyPluginAsync<DecisionRoutesOptions> = async (app: FastifyInstance, opts) => {
  const { engine } = opts;
  const actorOf = opts.getActor ?? (() => 'api');
  const heartbeatMs = opts.heartbeatMs ?? 15_000;
  const maxBuffer = opts.maxStreamBufferBytes ?? 1 << 20;
  if (!app.getSchema(DecisionSchema.$id!)) app.addSchema(DecisionSchema);
  /** finishers of the open streams, so closing the server ends them */
  const open = new Set<() => void>();

  app.get<{
    Querystring: {
      state?: DecisionState;
      type?: DecisionType;
      scope?: DecisionScope;
      value?: string;
      alert_id?: string;
      limit?: number;
    };
  }>(
    '/v1/decisions',
    {
      schema: {
        tags: ['decisions'],
        summary: 'List decisions, newest first',
        querystring: Type.Object({
          state: Type.Optional(DecisionState),
          type: Type.Optional(DecisionType),
          scope: Type.Optional(DecisionScope),
          value: Type.Optional(
            Type.String({
              maxLength: 1100,
              description:
                'the decisions acting on this value, exactly (an IP, a user, a token hash, a service, a METHOD /route): with scope, of that scope only',
            }),
          ),
          alert_id: Type.Optional(Type.String({ maxLength: 64, description: 'the decisions taken on this alert' })),
          limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100 })),
        }),
        response: { 200: Type.Object({ decisions: Type.Array(DecisionRef) }) },
      },
    },
    async (req) => {
      const { alert_id, ...filter } = req.query;
      return { decisions: await engine.list({ ...filter, alertId: alert_id }) };
    },
  );

  app.get<{ Querystring: { startup?: boolean } }>(
    '/v1/decisions/stream',
    {
      schema: {
        tags: ['decisions'],
        summary: 'Enforcement-point feed (NDJSON, long-lived)',
        description:
          'With startup=true: every active decision as {"type":"upsert","decision":D}, then {"type":"sync"}; then ' +
          'changes as upsert / {"type":"remove","id":ID}, and {"type":"heartbeat"} every 15 s.',
        querystring: Type.Object({ startup: Type.Optional(Type.Boolean({ default: false })) }),
        produces: ['application/x-ndjson'],
      },
    },
    async (req, reply) => {
      reply.hijack();
      const raw = reply.raw;
      raw.writeHead(200, {
        'content-type': 'application/x-ndjson',
        'cache-control': 'no-store',
        'x-accel-buffering': 'no',
      });
      // HEAD: the headers are the whole answer; GET: send them now, not with the first line (up to a heartbeat away)
      if (req.method === 'HEAD') {
        raw.end();
        return;
      }
      raw.flushHeaders();
      let ready = !req.query.startup;
      const pending: string[] = [];
      let ended = false;
      const write = (line: string) => {
        if (ended) return;
        raw.write(line);
        if (raw.writableLength > maxBuffer) {
          streamsCut.inc();
          finish();
          raw.destroy();
        }
      };
      const unsubscribe = engine.subscribe((change) => {
        const line = feedLine(change);
        if (!line) return;
        if (ready) write(line);
        else pending.push(line);
      });
      const heartbeat = setInterval(() => write('{"type":"heartbeat"}\n'), heartbeatMs);
      const finish = () => {
        if (ended) return;
        ended = true;
        clearInterval(heartbeat);
        unsubscribe();
        open.delete(finish);
        streamsOpen.dec();
        if (!raw.destroyed) raw.end();
      };
      open.add(finish);
      streamsOpen.inc();
      raw.on('close', finish);
      raw.on('error', finish);
      if (req.query.startup) {
        try {
          for (const d of await engine.enforced()) write(`${JSON.stringify({ type: 'upsert', decision: d })}\n`);
          write('{"type":"sync"}\n');
          ready = true;
          for (const line of pending.splice(0)) write(line);
        } catch (err) {
          app.log.error({ err }, 'decision stream snapshot failed');
          finish();
        }
      }
    },
  );

  app.get<{ Params: { id: string } }>(
    '/v1/decisions/:id',
    {
      schema: {
        tags: ['decisions'],
        summary: 'One decision',
        params: IdParams,
        response: { 200: DecisionRef, 404: ErrorBody },
      },
    },
    async (req) => {
      const d = await engine.get(req.params.id);
      if (!d) throw mwError('NOT_FOUND', `decision ${req.params.id}`);
      return d;
    },
  );

  app.post<{ Params: { id: string } }>(
    '/v1/decisions/:id/approve',
    {
      schema: {
        tags: ['decisions'],
        summary:
          'Approve a pending decision: it is applied now and enforced for its ttlMs from now (409 once its approvalDeadline has passed)',
        params: IdParams,
        response: { 200: DecisionRef, 404: ErrorBody, 409: ErrorBody },
      },
    },
    async (req) => engine.approve(req.params.id, actorOf(req)),
  );

  app.post<{ Params: { id: string }; Body: { comment: string } }>(
    '/v1/decisions/:id/lift',
    {
      schema: {
        tags: ['decisions'],
        summary: 'Lift an active or pending decision (its effects are reverted now)',
        params: IdParams,
        body: Type.Object({ comment: Type.String({ minLength: 1, maxLength: 2000 }) }, { additionalProperties: false }),
        response: { 200: DecisionRef, 404: ErrorBody, 409: ErrorBody },
      },
    },
    async (req) => engine.lift(req.params.id, actorOf(req), req.body.comment),
  );

  app.get<{
    Querystring: { after?: string; before?: string; order?: 'oldest' | 'newest'; limit?: number; decisionId?: string };
  }>(
    '/v1/audit',
    {
      schema: {
        tags: ['audit'],
        summary:
          'The audit trail, oldest first (pass `next` as `after` for the next page), or with order=newest newest first (pass `next` as `before`)',
        querystring: Type.Object({
          after: Type.Optional(Type.String({ maxLength: 64 })),
          before: Type.Optional(Type.String({ maxLength: 64 })),
          order: Type.Optional(Type.Union([Type.Literal('oldest'), Type.Literal('newest')], { default: 'oldest' })),
          limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100 })),
          decisionId: Type.Optional(Type.String({ maxLength: 128 })),
        }),
        response: { 200: Type.Object({ entries: Type.Array(AuditEntrySchema), next: Type.Optional(Type.String()) }) },
      },
    },
    async (req) => {
      const { order, ...q } = req.query;
      if (order === 'oldest' && q.before !== undefined) throw mwError('BAD_REQUEST', 'before goes with order=newest');
      if (order === 'newest' && q.after !== undefined) throw mwError('BAD_REQUEST', 'after goes with order=oldest');
      return engine.audit.query({ ...q, newestFirst: order === 'newest' });
    },
  );

  app.addHook('preClose', async () => {
    for (const finish of [...open]) finish();
  });
};
