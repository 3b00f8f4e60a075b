import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { counter } from '../core/metrics.js';
import type { Store } from '../store/store.js';
import type { Principal } from './auth.js';

const ANALYSTS_KEY = 'analysts';
/** how often one process records that an analyst called, at most (unless their name or role changed) */
const RECORD_EVERY_MS = 5 * 60_000;
/** the analysts one process remembers having recorded; beyond it, it starts over (a few more writes) */
const REMEMBERED = 10_000;

const unrecorded = counter(
  'meshward_analysts_unrecorded_total',
  'analyst sightings the store did not take (the directory shows them at their next call)',
);

export interface Analyst extends Principal {
  /** the last time they called the API (absent for an API key not used yet) */
  lastSeen?: number;
}

/**
 * Who works with the analyst API: the API keys' principals, and every principal that called it (an OIDC user is
 * known only once they have), with the name their token gives. The console offers them as owners of an alert and
 * shows their names where an OIDC subject id would be opaque.
 */
export class AnalystDirectory {
  private readonly recorded = new Map<string, { at: number; as: string }>();

  constructor(
    private readonly store: Store,
    private readonly keyPrincipals: () => Principal[],
    private readonly clock: () => number = Date.now,
  ) {}

  /** an analyst called the API (the store is written at most every few minutes per analyst and process) */
  seen(p: Principal): void {
    const now = this.clock();
    const as = `${p.role}\n${p.via}\n${p.name ?? ''}`;
    const last = this.recorded.get(p.id);
    if (last && last.as === as && now - last.at < RECORD_EVERY_MS) return;
    if (this.recorded.size >= REMEMBERED) this.recorded.clear();
    this.recorded.set(p.id, { at: now, as });
    const analyst: Analyst = { id: p.id, role: p.role, via: p.via, ...(p.name ? { name: p.name } : {}), lastSeen: now };
    this.store.hset(ANALYSTS_KEY, p.id, JSON.stringify(analyst)).catch(() => {
      unrecorded.inc();
      this.recorded.delete(p.id);
    });
  }

  /**
   * every analyst, those seen most recently first, then the API keys not used yet by name. An API key's role is the
   * keys file's now, and a key no longer in it is left out; a token's principal is as it last called
   */
  async list(): Promise<Analyst[]> {
    const keys = new Map(this.keyPrincipals().map((p) => [p.id, p]));
    const byId = new Map<string, Analyst>(keys);
    for (const raw of Object.values(await this.store.hgetall(ANALYSTS_KEY))) {
      let a: Analyst;
      try {
        a = JSON.parse(raw) as Analyst;
      } catch {
        continue;
      }
      if (a.via === 'api_key') {
        const key = keys.get(a.id);
        if (key) byId.set(a.id, { ...key, lastSeen: a.lastSeen });
      } else if (!keys.has(a.id)) byId.set(a.id, a);
    }
    return [...byId.values()].sort(
      (x, y) => (y.lastSeen ?? 0) - (x.lastSeen ?? 0) || (x.id < y.id ? -1 : x.id > y.id ? 1 : 0),
    );
  }
}

const AnalystSchema = Type.Object({
  id: Type.String({ description: "the principal id: an API key's name or a token's subject" }),
  name: Type.Optional(Type.String({ description: 'the name their token gives (preferred_username, email or name)' })),
  role: Type.Union([Type.Literal('viewer'), Type.Literal('responder'), Type.Literal('admin')]),
  via: Type.Union([Type.Literal('api_key'), Type.Literal('oidc')]),
  lastSeen: Type.Optional(Type.Number({ description: 'when they last called the API (epoch ms)' })),
});

/** `GET /v1/analysts`: who can own an alert, with their names */
export function analystRoutes(directory: AnalystDirectory) {
  return async (app: FastifyInstance) => {
    app.get(
      '/v1/analysts',
      {
        config: { role: 'viewer' },
        schema: {
          tags: ['auth'],
          summary: 'The analysts: API keys and every principal that called the API, most recently seen first',
          response: { 200: Type.Object({ items: Type.Array(AnalystSchema) }) },
        },
      },
      async () => ({ items: await directory.list() }),
    );
  };
}
