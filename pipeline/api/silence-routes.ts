import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { AlertRepository } from '../alerts/alert-repository.js';
import { MAX_SILENCE_MS, resolveCovered, type SilenceMatchers, type SilenceRepository } from '../alerts/silences.js';
import { Severity } from '../core/alert.js';
import { AlertKindSchema } from '../core/alert-kinds.js';
import { principalOf } from './api-server.js';

const Matcher = Type.Optional(Type.String({ minLength: 1, maxLength: 400 }));
const Matchers = {
  kind: Matcher,
  service: Matcher,
  endpoint: Matcher,
  subject: Matcher,
  max_severity: Type.Optional({ ...Severity, description: 'only alerts of this severity or lower' }),
};
const SilenceSchema = Type.Object({
  id: Type.String(),
  matchers: Type.Object(Matchers),
  startsAt: Type.Number(),
  endsAt: Type.Number(),
  createdBy: Type.String(),
  comment: Type.String(),
  expiredBy: Type.Optional(Type.String()),
  active: Type.Boolean(),
  suppressed: Type.Integer({
    description:
      'alert changes from the correlators (a new alert, or a refresh with more occurrences) it resolved or kept resolved as they arrived, and kept from the sinks; not those resolved when it was made',
  }),
  lastSuppressedAt: Type.Optional(Type.Number({ description: 'when it last suppressed one (epoch ms)' })),
});
const CreateBody = Type.Object(
  {
    // an unknown matcher is refused, not dropped (the server strips unknown properties where they are `false`): a
    // silence broader than asked for would hide alerts nobody meant to hide
    // a misspelt kind would silence nothing: it is refused with the kinds there are
    matchers: Type.Object(
      { ...Matchers, kind: Type.Optional(AlertKindSchema) },
      { additionalProperties: Type.Never(), minProperties: 1 },
    ),
    duration_minutes: Type.Integer({ minimum: 1, maximum: MAX_SILENCE_MS / 60_000 }),
    comment: Type.String({ minLength: 1, maxLength: 2000 }),
  },
  { additionalProperties: false },
);

/**
 * analysts' silences: list, create (responder; the open and acknowledged alerts it covers are resolved at once), end
 * early (responder)
 */
export function silenceRoutes(silences: SilenceRepository, alerts: AlertRepository) {
  return async (app: FastifyInstance) => {
    app.get(
      '/v1/silences',
      {
        config: { role: 'viewer' },
        schema: {
          tags: ['alerts'],
          summary:
            'Silences: active ones first, then those ended in the last 7 days, each with how many alert changes it suppressed and when it last did',
          response: { 200: Type.Object({ items: Type.Array(SilenceSchema) }) },
        },
      },
      async () => ({ items: await silences.list() }),
    );
    app.post(
      '/v1/silences',
      {
        config: { role: 'responder' },
        schema: {
          tags: ['alerts'],
          summary:
            'Silence the alerts matching every matcher given (kind, service, endpoint, subject value; with max_severity, only those of that severity or lower) for a while: those open now and those that arrive are resolved with a note, and not sent to the sinks',
          body: CreateBody,
          response: {
            200: Type.Composite([
              SilenceSchema,
              Type.Object({ resolved: Type.Integer({ description: 'alerts it covered, resolved now' }) }),
            ]),
          },
        },
      },
      async (request) => {
        const body = request.body as { matchers: SilenceMatchers; duration_minutes: number; comment: string };
        const s = await silences.create(
          { matchers: body.matchers, durationMs: body.duration_minutes * 60_000, comment: body.comment },
          principalOf(request).id,
        );
        const resolved = await resolveCovered(alerts, s);
        return { ...(await silences.shown(s)), resolved };
      },
    );
    app.post(
      '/v1/silences/:id/expire',
      {
        config: { role: 'responder' },
        schema: {
          tags: ['alerts'],
          summary: 'End a silence now: new occurrences of its alerts open them again',
          params: Type.Object({ id: Type.String({ maxLength: 64 }) }),
          response: { 200: SilenceSchema },
        },
      },
      async (request) =>
        silences.shown(await silences.expire((request.params as { id: string }).id, principalOf(request).id)),
    );
  };
}
