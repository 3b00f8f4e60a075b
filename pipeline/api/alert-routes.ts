import { Type } from '@sinclair/typebox';
import { ALERT_KINDS, AlertKindSchema } from '../core/alert-kinds.js';
import type { FastifyInstance } from 'fastify';
import type { AlertChange, AlertFilter, AlertRepository } from '../alerts/alert-repository.js';
import { ALERT_SORTS, type AlertSort } from '../alerts/alert-sort.js';
import { AlertSchema, AlertState, Severity } from '../core/alert.js';
import type { Decision } from '../core/decision.js';
import { ERRORS, MeshwardError, mwError } from '../core/errors.js';
import { principalOf } from './api-server.js';

const ListQuery = Type.Object(
  {
    kind: Type.Optional(AlertKindSchema),
    severity: Type.Optional(Severity),
    min_severity: Type.Optional(Severity),
    service: Type.Optional(Type.String()),
    subject: Type.Optional(
      Type.String({ description: "the subject's value (an IP, a user, a token hash, an entry id)" }),
    ),
    endpoint: Type.Optional(Type.String({ maxLength: 1100, description: 'METHOD /route, exactly' })),
    state: Type.Optional(AlertState),
    assignee: Type.Optional(Type.String({ maxLength: 200, description: 'owned by this analyst (principal id)' })),
    unassigned: Type.Optional(Type.Boolean({ description: 'true: only alerts nobody owns' })),
    untriaged: Type.Optional(
      Type.Boolean({
        description:
          'true: only alerts no analyst has acted on yet (with state=resolved: those the correlators resolved unseen)',
      }),
    ),
    from: Type.Optional(Type.Number({ description: 'lastSeen >= from (epoch ms)' })),
    to: Type.Optional(Type.Number({ description: 'lastSeen <= to (epoch ms)' })),
    sort: Type.Optional(
      Type.Union(
        ALERT_SORTS.map((x) => Type.Literal(x)),
        {
          description: `the order, each highest first, then the most recently seen: last_seen (default, any state), severity, count or first_seen (with state=open or state=acknowledged only, a 400 otherwise: the store keeps an index of the unresolved alerts in each of these orders)`,
        },
      ),
    ),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 50 })),
    cursor: Type.Optional(Type.String({ description: "the previous page's next (of the same sort)" })),
  },
  { additionalProperties: false },
);

const IdParams = Type.Object({ id: Type.String({ maxLength: 64 }) });

/** an owner: a principal id as `GET /v1/me` names it (an API key's name, an OIDC subject or e-mail) */
const Assignee = Type.String({ minLength: 1, maxLength: 200, pattern: '^[^\\u0000-\\u001f]+$' });
const Comment = Type.String({ maxLength: 4000 });
const Takeover = Type.Boolean({
  description:
    'true: take the alert over from the analyst who owns it (else an alert another analyst owns is refused, 409 MW_ERR_ALERT_OWNED naming them); the note says whom it was taken from',
});
const UnassignTakeover = Type.Boolean({
  description:
    'true: also when another analyst owns the alert (else it is refused, 409 MW_ERR_ALERT_OWNED naming them); the note says whom it was taken from',
});
const AssignBody = Type.Object(
  {
    assignee: { ...Assignee, description: 'the new owner' },
    comment: Type.Optional(Comment),
    takeover: Type.Optional(Takeover),
  },
  { additionalProperties: false },
);
const TriageBody = Type.Object({ comment: Type.Optional(Comment) }, { additionalProperties: false });
const UnassignBody = Type.Object(
  { comment: Type.Optional(Comment), takeover: Type.Optional(UnassignTakeover) },
  { additionalProperties: false },
);
const NoteBody = Type.Object(
  { comment: Type.String({ minLength: 1, maxLength: 4000, pattern: '\\S' }) },
  { additionalProperties: false },
);

const TriageAction = Type.Union([
  Type.Literal('acknowledge'),
  Type.Literal('resolve'),
  Type.Literal('reopen'),
  Type.Literal('assign'),
  Type.Literal('unassign'),
]);
type TriageAction = 'acknowledge' | 'resolve' | 'reopen' | 'assign' | 'unassign';
/** the most alerts one bulk triage request may name */
export const MAX_BULK_TRIAGE = 500;
const BulkTriageBody = Type.Object(
  {
    action: TriageAction,
    ids: Type.Array(Type.String({ minLength: 1, maxLength: 64 }), {
      minItems: 1,
      maxItems: MAX_BULK_TRIAGE,
      uniqueItems: true,
    }),
    comment: Type.Optional(Comment),
    assignee: Type.Optional({ ...Assignee, description: 'the owner (action assign only, and required there)' }),
    takeover: Type.Optional(
      Type.Boolean({
        description:
          'action assign or unassign only: true also takes (assign) or unassigns the alerts another analyst owns; without it they are skipped with their assignee. The note says whom each was taken from',
      }),
    ),
  },
  { additionalProperties: false },
);
const BulkTriageAnswer = Type.Object({
  items: Type.Array(AlertSchema, { description: 'the alerts changed, in their new state' }),
  skipped: Type.Array(
    Type.Object({
      id: Type.String(),
      reason: Type.String(),
      assignee: Type.Optional(
        Type.String({ description: 'the analyst who owns it, when it was left because another analyst does' }),
      ),
    }),
    {
      description:
        'alerts left as they were: not found, already in that state or with that owner, owned by another analyst (assign or unassign without takeover), or not open (acknowledge)',
    },
  ),
});

export interface AlertRoutesOptions {
  alerts: AlertRepository;
  /** evidence records by id, when the deployment keeps them (embedded: recent records in memory) */
  evidence?: (ids: string[]) => Promise<unknown[]>;
  /**
   * the decision changes of the policy engine, whichever process runs it (announced on the store:
   * decision-changes.ts): the stream carries each as `event: decision`, so that the console's decisions are live too
   */
  decisions?: { subscribe(listener: (change: { decision: Decision }) => void): () => void };
}

/** alert queue, detail with evidence, and triage (acknowledge / resolve / reopen with a comment, owners, notes) */
export function alertRoutes(opts: AlertRoutesOptions) {
  return async (app: FastifyInstance) => {
    app.get(
      '/v1/alert-kinds',
      {
        config: { role: 'viewer' },
        schema: {
          tags: ['alerts'],
          summary: 'The alert kinds meshward raises, each with what it means',
          response: {
            200: Type.Object({ items: Type.Array(Type.Object({ kind: Type.String(), description: Type.String() })) }),
          },
        },
      },
      async () => ({ items: Object.entries(ALERT_KINDS).map(([kind, description]) => ({ kind, description })) }),
    );
    app.get(
      '/v1/alerts',
      {
        config: { role: 'viewer' },
        schema: {
          tags: ['alerts'],
          summary:
            'List alerts, newest first (or the open queue by severity, count or first seen: sort), with filters and cursor paging',
          querystring: ListQuery,
          response: { 200: Type.Object({ items: Type.Array(AlertSchema), next: Type.Optional(Type.String()) }) },
        },
      },
      async (request) => {
        const q = request.query as Record<string, string | number | boolean | undefined>;
        if (q.assignee !== undefined && q.unassigned)
          throw mwError('BAD_REQUEST', 'give assignee or unassigned=true, not both');
        const filter: AlertFilter = {
          kind: q.kind as string | undefined,
          severity: q.severity as AlertFilter['severity'],
          minSeverity: q.min_severity as AlertFilter['minSeverity'],
          service: q.service as string | undefined,
          subject: q.subject as string | undefined,
          endpoint: q.endpoint as string | undefined,
          state: q.state as AlertFilter['state'],
          assignee: q.assignee as string | undefined,
          unassigned: (q.unassigned as boolean | undefined) ?? false,
          untriaged: (q.untriaged as boolean | undefined) ?? false,
          from: q.from as number | undefined,
          to: q.to as number | undefined,
        };
        return opts.alerts.list(
          filter,
          (q.limit as number | undefined) ?? 50,
          q.cursor as string | undefined,
          (q.sort as AlertSort | undefined) ?? 'last_seen',
        );
      },
    );

    app.get(
      '/v1/alerts/:id',
      {
        config: { role: 'viewer' },
        schema: { tags: ['alerts'], summary: 'One alert with its notes and evidence records', params: IdParams },
      },
      async (request) => {
        const { id } = request.params as { id: string };
        const alert = await opts.alerts.get(id);
        if (!alert) throw mwError('NOT_FOUND', `alert ${id}`);
        const [notes, records] = await Promise.all([
          opts.alerts.notes(id),
          opts.evidence ? opts.evidence(alert.evidence.recordIds) : Promise.resolve([]),
        ]);
        return { alert, notes, records };
      },
    );

    app.get(
      '/v1/alerts/stream',
      {
        config: { role: 'viewer' },
        schema: {
          tags: ['alerts'],
          summary:
            'Server-Sent Events: every alert change as `event: alert`, every decision change of the policy engine (in any process) as `event: decision`, a comment heartbeat every 15 s',
        },
      },
      (request, reply) => {
        reply.hijack();
        const res = reply.raw;
        res.writeHead(200, {
          'content-type': 'text/event-stream',
          'cache-control': 'no-cache',
          connection: 'keep-alive',
          'x-accel-buffering': 'no',
        });
        // HEAD: the headers are the whole answer (a HEAD response carries no body, so Node never sends them otherwise)
        if (request.method === 'HEAD') {
          res.end();
          return;
        }
        res.write(': connected\n\n');
        const onChange = (c: AlertChange) => {
          res.write(`id: ${c.alert.id}:${c.alert.updatedAt}\nevent: alert\ndata: ${JSON.stringify(c.alert)}\n\n`);
        };
        opts.alerts.on('change', onChange);
        const stopDecisions = opts.decisions?.subscribe((c) => {
          res.write(`event: decision\ndata: ${JSON.stringify(c.decision)}\n\n`);
        });
        const beat = setInterval(() => res.write(': heartbeat\n\n'), 15_000);
        request.raw.on('close', () => {
          clearInterval(beat);
          opts.alerts.off('change', onChange);
          stopDecisions?.();
        });
      },
    );

    app.post(
      '/v1/alerts/triage',
      {
        config: { role: 'responder' },
        schema: {
          tags: ['alerts'],
          summary: `Acknowledge, resolve, reopen, assign or unassign several alerts at once (at most ${MAX_BULK_TRIAGE}), each with the comment`,
          body: BulkTriageBody,
          response: { 200: BulkTriageAnswer },
        },
      },
      async (request) => {
        const { action, ids, comment, assignee, takeover } = request.body as {
          action: TriageAction;
          ids: string[];
          comment?: string;
          assignee?: string;
          takeover?: boolean;
        };
        if ((action === 'assign') !== (assignee !== undefined))
          throw mwError('BAD_REQUEST', 'assignee goes with action assign, and action assign needs it');
        if (takeover !== undefined && action !== 'assign' && action !== 'unassign')
          throw mwError('BAD_REQUEST', 'takeover goes with action assign or unassign');
        const actor = principalOf(request).id;
        const items = [];
        const skipped: { id: string; reason: string; assignee?: string }[] = [];
        for (const id of ids) {
          try {
            items.push(
              action === 'assign' || action === 'unassign'
                ? await opts.alerts.assign(id, assignee ?? null, actor, comment, { onlyIfChanged: true, takeover })
                : await opts.alerts.transition(id, action, actor, comment, { onlyIfChanged: true }),
            );
          } catch (err) {
            if (!(err instanceof MeshwardError)) throw err;
            if (err.code === ERRORS.NOT_FOUND.code) skipped.push({ id, reason: 'not found' });
            else if (err.code === ERRORS.ALERT_OWNED.code) {
              const owner = (err.details as { assignee: string }).assignee;
              skipped.push({
                id,
                reason: `assigned to ${owner}, another analyst (takeover ${action === 'assign' ? 'takes it over' : 'unassigns it all the same'})`,
                assignee: owner,
              });
            }
            // the detail after the catalogue's message: "alert is resolved", or a concurrent change
            else if (err.code === ERRORS.CONFLICT.code)
              skipped.push({ id, reason: err.message.replace(`${ERRORS.CONFLICT.message}: `, '') });
            else throw err;
          }
        }
        return { items, skipped };
      },
    );

    for (const action of ['acknowledge', 'resolve', 'reopen'] as const) {
      app.post(
        `/v1/alerts/:id/${action}`,
        {
          config: { role: 'responder' },
          schema: {
            tags: ['alerts'],
            summary: `${action} an alert (with an optional comment)`,
            params: IdParams,
            body: Type.Union([TriageBody, Type.Null()]),
            response: { 200: AlertSchema },
          },
        },
        async (request) => {
          const { id } = request.params as { id: string };
          const body = (request.body ?? {}) as { comment?: string };
          return opts.alerts.transition(id, action, principalOf(request).id, body.comment);
        },
      );
    }

    app.post(
      '/v1/alerts/:id/unassign',
      {
        config: { role: 'responder' },
        schema: {
          tags: ['alerts'],
          summary:
            'Take the owner of an alert away (with an optional comment). An alert another analyst owns is refused (409 MW_ERR_ALERT_OWNED, its details name them) unless takeover: true',
          params: IdParams,
          body: Type.Union([UnassignBody, Type.Null()]),
          response: { 200: AlertSchema },
        },
      },
      async (request) => {
        const { id } = request.params as { id: string };
        const { comment, takeover } = (request.body ?? {}) as { comment?: string; takeover?: boolean };
        return opts.alerts.assign(id, null, principalOf(request).id, comment, { takeover });
      },
    );

    app.post(
      '/v1/alerts/:id/assign',
      {
        config: { role: 'responder' },
        schema: {
          tags: ['alerts'],
          summary:
            'Give an alert an owner (or another one), with an optional comment. An alert another analyst owns is refused (409 MW_ERR_ALERT_OWNED, its details name them) unless takeover: true; one that already has that owner is left as it is',
          params: IdParams,
          body: AssignBody,
          response: { 200: AlertSchema },
        },
      },
      async (request) => {
        const { id } = request.params as { id: string };
        const { assignee, comment, takeover } = request.body as {
          assignee: string;
          comment?: string;
          takeover?: boolean;
        };
        return opts.alerts.assign(id, assignee, principalOf(request).id, comment, { takeover });
      },
    );

    app.post(
      '/v1/alerts/:id/notes',
      {
        config: { role: 'responder' },
        schema: {
          tags: ['alerts'],
          summary: "Add a note to an alert's history (what was checked, who was told); its state and owner stay",
          params: IdParams,
          body: NoteBody,
          response: { 200: AlertSchema },
        },
      },
      async (request) => {
        const { id } = request.params as { id: string };
        const { comment } = request.body as { comment: string };
        return opts.alerts.comment(id, principalOf(request).id, comment.trim());
      },
    );
  };
}
