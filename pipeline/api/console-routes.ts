import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import fastifyStatic from '@fastify/static';
import { Type } from '@sinclair/typebox';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { mwError } from '../core/errors.js';
import { principalOf } from './api-server.js';

export interface ConsoleRoutesOptions {
  /** directory of the console's static files (default: `pipeline/api/console/public` of this checkout) */
  root?: string;
}

/**
 * The console is plain ES modules, CSS and HTML (no bundling), kept beside this file in the source tree. Compiled
 * code runs from `dist/pipeline/api/`, which tsc does not copy them to, so look in both places.
 */
export function consoleRoot(): string {
  const here = import.meta.dirname;
  for (const candidate of [join(here, 'console/public'), join(here, '../../../pipeline/api/console/public')]) {
    if (existsSync(join(candidate, 'index.html'))) return candidate;
  }
  throw mwError(
    'CONFIG_INVALID',
    `console assets not found near ${here} (expected pipeline/api/console/public/index.html)`,
  );
}

/** uPlot is served from its package, read once at registration */
function uplotAssets(): { js: Buffer; css: Buffer } {
  const dist = dirname(createRequire(import.meta.url).resolve('uplot'));
  return { js: readFileSync(join(dist, 'uPlot.iife.min.js')), css: readFileSync(join(dist, 'uPlot.min.css')) };
}

/** the console's script and style come from this origin only; nothing may frame it */
const SECURITY_HEADERS: Record<string, string> = {
  'content-security-policy':
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
};

const setSecurityHeaders = (reply: FastifyReply) => {
  for (const [k, v] of Object.entries(SECURITY_HEADERS)) reply.header(k, v);
};

const MeSchema = Type.Object({
  id: Type.String({ description: "the API key's name or the token's subject" }),
  role: Type.Union([Type.Literal('viewer'), Type.Literal('responder'), Type.Literal('admin')]),
  via: Type.Union([Type.Literal('api_key'), Type.Literal('oidc')]),
  name: Type.Optional(Type.String({ description: 'the name the token gives (its subject id may be opaque)' })),
});

/**
 * The SOC console (a single-page app at `/`, public so the login page loads; every call it makes is authenticated)
 * and `GET /v1/me`, which the console uses to validate the pasted credential and learn the caller's role.
 */
export function consoleRoutes(opts: ConsoleRoutesOptions = {}) {
  const root = opts.root ?? consoleRoot();
  const uplot = uplotAssets();
  return async (app: FastifyInstance) => {
    app.get(
      '/v1/me',
      {
        config: { role: 'viewer' },
        schema: { tags: ['auth'], summary: 'Who the credential belongs to, and its role', response: { 200: MeSchema } },
      },
      async (request) => {
        const p = principalOf(request);
        return { id: p.id, role: p.role, via: p.via, ...(p.name ? { name: p.name } : {}) };
      },
    );

    // encapsulated: the security headers and static handler apply to the console's files only
    await app.register(async (ui) => {
      ui.addHook('onSend', async (_request, reply, payload) => {
        setSecurityHeaders(reply);
        return payload;
      });
      for (const [path, body, type] of [
        ['/vendor/uplot.iife.min.js', uplot.js, 'text/javascript; charset=utf-8'],
        ['/vendor/uplot.min.css', uplot.css, 'text/css; charset=utf-8'],
      ] as const) {
        ui.get(path, { schema: { hide: true } }, async (_request, reply) =>
          reply.type(type).header('cache-control', 'public, max-age=3600').send(body),
        );
      }
      await ui.register(fastifyStatic, {
        root,
        prefix: '/',
        decorateReply: false,
        // a route per file found now, not a wildcard GET: a wildcard caught what the router refuses under /v1 (a
        // path parameter past maxParamLength) and answered it 404 rather than 400
        wildcard: false,
        index: ['index.html'],
        dotfiles: 'ignore',
        cacheControl: true,
        maxAge: 0,
        etag: true,
      });
    });
  };
}
