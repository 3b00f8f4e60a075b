import type { FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify';
import { type JWTVerifyGetKey, createRemoteJWKSet, jwtVerify } from 'jose';
import type { Decision } from '../../pipeline/core/decision.js';
import { mwError } from '../../pipeline/core/errors.js';
import type { Logger } from '../../pipeline/core/logger.js';
import { counter } from '../../pipeline/core/metrics.js';
import { bearerToken } from '../common/token-hash.js';
import type { CallerCredential } from './caller-identity.js';
import type { EnforceConfig } from './config.js';
import type { DecisionView, RequestSubject } from './decision-view.js';

export interface EnforcementState {
  /** the decision that was enforced on this request, for the record's tags */
  enforced?: { id: string; action: string };
}

export interface EnforcerDeps {
  view: DecisionView;
  config: EnforceConfig;
  sensorId: string;
  logger: Logger;
  /** the caller's credential and user label, computed once per request by the plugin */
  caller(request: FastifyRequest): { cred: CallerCredential | undefined; sub: string | undefined };
  service(request: FastifyRequest): string;
  mark(request: FastifyRequest, decision: Decision, action: string): void;
  /** for tests: a key source instead of the JWKS URL */
  jwks?: JWTVerifyGetKey;
}

const quote = (s: string) => s.replace(/["\\]/g, '');

/**
 * The enforcement hook: deny decisions → 403; step_up decisions → 401 with an RFC 9470 challenge until the caller
 * presents a token whose `acr` equals the required value. With no decisions in force it costs one size check.
 */
export function createEnforcer(deps: EnforcerDeps) {
  const { view, config } = deps;
  const enforced = counter('meshward_gateway_enforced_total', 'requests answered by a meshward decision', [
    'sensor',
    'action',
  ]);
  const keySource = deps.jwks ?? (config.jwks_url ? createRemoteJWKSet(new URL(config.jwks_url)) : undefined);
  if (!keySource) {
    deps.logger.warn('step_up: no jwks_url configured, the acr claim is read from tokens WITHOUT verifying them');
  }
  const verifyOpts = {
    ...(config.issuer ? { issuer: config.issuer } : {}),
    ...(config.audience ? { audience: config.audience } : {}),
  };

  const challenge = (request: FastifyRequest, reply: FastifyReply, d: Decision, error: string, description: string) => {
    enforced.inc({ sensor: deps.sensorId, action: 'step_up' });
    deps.mark(request, d, 'step_up');
    const acr = d.acr ?? '';
    reply
      .code(401)
      .header(
        'www-authenticate',
        `Bearer error="${error}", error_description="${quote(description)}", acr_values="${quote(acr)}"`,
      )
      .send(mwError('UNAUTHENTICATED', description, { acr_values: acr }).toJSON());
  };

  const acrOf = async (request: FastifyRequest, cred: CallerCredential): Promise<string | undefined> => {
    if (!cred.isBearer) return undefined;
    if (!keySource) return cred.acr;
    const bearer = bearerToken(request.headers.authorization);
    if (!bearer) return undefined;
    const { payload } = await jwtVerify(bearer, keySource, verifyOpts);
    return typeof payload.acr === 'string' ? payload.acr : undefined;
  };

  return function enforce(request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction): void {
    if (view.size === 0) {
      done();
      return;
    }
    const { cred, sub } = deps.caller(request);
    const route = request.routeOptions.url;
    const subject: RequestSubject = {
      tokenHash: cred?.tokenHash,
      sub,
      ip: request.ip,
      service: deps.service(request),
      endpoint: route ? `${request.method} ${route}` : undefined,
    };
    const deny = view.deny(subject);
    if (deny) {
      enforced.inc({ sensor: deps.sensorId, action: 'deny' });
      deps.mark(request, deny, 'deny');
      reply.code(403).send(mwError('FORBIDDEN', 'denied by a meshward decision', { decision: deny.id }).toJSON());
      return;
    }
    const step = view.stepUp(subject);
    if (!step) {
      done();
      return;
    }
    if (!cred) {
      challenge(request, reply, step, 'insufficient_user_authentication', config.step_up_description);
      return;
    }
    acrOf(request, cred).then(
      (acr) => {
        if (acr !== undefined && acr === step.acr) done();
        else challenge(request, reply, step, 'insufficient_user_authentication', config.step_up_description);
      },
      () => challenge(request, reply, step, 'invalid_token', 'The access token could not be verified'),
    );
  };
}
