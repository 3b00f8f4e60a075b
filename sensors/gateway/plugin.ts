import { redactorOf } from '../common/redact-config.js';
import type { FastifyInstance, FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify';
import type { JWTVerifyGetKey } from 'jose';
import type { Decision } from '../../pipeline/core/decision.js';
import { type Logger, silentLogger } from '../../pipeline/core/logger.js';
import { counter } from '../../pipeline/core/metrics.js';
import { ROWS_CONTENT_TYPE } from '../../pipeline/core/record-rows.js';
import { followDecisions } from '../../policy-actions/engine/decision-feed-client.js';
import { type RecordSink, createHttpShipper } from '../common/batching-shipper.js';
import { rowsEncoder } from '../common/encode-batch.js';
import { loadConfig } from '../common/load-config.js';
import { readTokenHashKey } from '../common/token-hash-key.js';
import { type CallerCredential, createCredentialReader, propertyReader } from './caller-identity.js';
import { type GatewaySensorConfig, GatewaySensorConfigSchema } from './config.js';
import { DecisionView, type FollowDecisions } from './decision-view.js';
import { createEnforcer } from './enforcer.js';
import {
  type CapturedRequest,
  GATEWAY_ROW_FIELDS,
  type RecordContext,
  buildRecord,
  buildRow,
  gatewayCommon,
} from './record-builder.js';
import { RequestCapture, routeTemplateReader } from './request-capture.js';

export interface MeshwardSensorOptions {
  /** snake_case config (GatewaySensorConfigSchema); defaults fill what is missing */
  config?: unknown;
  /** where records go; default: an HTTP shipper to the collector built from `config.shipper` (shut down on close) */
  sink?: RecordSink;
  /** decisions to enforce; default: a view fed by `followDecisions` from `config.enforce.decisions_url` */
  decisions?: DecisionView;
  /** the decision feed client; default: `followDecisions` of policy-actions/engine/decision-feed-client.ts */
  followDecisions?: FollowDecisions;
  /** for tests: verification keys for step-up tokens instead of `config.enforce.jwks_url` */
  jwks?: JWTVerifyGetKey;
  logger?: Logger;
}

/** per-request state, one decoration with a stable shape */
interface SensorRequestState {
  resolved: boolean;
  cred: CallerCredential | undefined;
  tags: Record<string, string> | undefined;
  /** performance.now() in onRequest (record_aborted only) */
  startedAt: number;
}

/**
 * requests captured in one event-loop turn at most before recording drops (and counts): far more than a turn serves
 * (the buffer is emptied on every turn), small enough to bound memory (slots hold references only)
 */
const CAPTURE_CAPACITY = 16_384;

declare module 'fastify' {
  interface FastifyRequest {
    meshwardSensor: SensorRequestState | null;
  }
}

function meshwardSensorPlugin(
  fastify: FastifyInstance,
  opts: MeshwardSensorOptions,
  done: (err?: Error) => void,
): void {
  let config: GatewaySensorConfig;
  let tokenHashKey: string;
  try {
    config = loadConfig(GatewaySensorConfigSchema, opts.config, 'meshward fastify sensor');
    tokenHashKey = readTokenHashKey(config, 'meshward fastify sensor');
  } catch (err) {
    done(err as Error);
    return;
  }
  const logger = opts.logger ?? silentLogger;
  /**
   * an injected sink (in-process ingest, tests) gets each record before onResponse completes, as it always did; the
   * sensor's own shipper only sends later anyway, so its records are built in one batch per event-loop turn, as rows
   * (the collector makes them records: half the bytes and the serialising of record objects)
   */
  const injectedSink = opts.sink;
  const recordErrors = counter('meshward_sensor_record_errors_total', 'requests a sensor failed to record', ['sensor']);
  const readCredential = createCredentialReader(tokenHashKey);
  // raw Authorization values leave the reader's fast path about a second after their last use
  const expireCredentials = setInterval(readCredential.expire, 1_000);
  expireCredentials.unref();
  const ignored = new Set(config.ignore_routes);
  const ctx: RecordContext = {
    sensor: { kind: 'fastify', id: config.sensor_id },
    service: config.service,
    region: config.region,
    queryParams: config.query_params,
    redactor: redactorOf(config),
  };
  const ownShipper = injectedSink
    ? undefined
    : createHttpShipper<unknown[]>(
        config.shipper,
        { logger, sensorId: config.sensor_id },
        { contentType: ROWS_CONTENT_TYPE, encode: rowsEncoder(GATEWAY_ROW_FIELDS, gatewayCommon(ctx)) },
      );
  const routeOf = routeTemplateReader();
  const userFrom = config.user.from;
  const readProperty = propertyReader(config.user.property);
  const userHeader = config.user.header.toLowerCase();

  fastify.decorateRequest('meshwardSensor', null);

  const stateOf = (request: FastifyRequest): SensorRequestState => {
    let st = request.meshwardSensor;
    if (!st) {
      st = { resolved: false, cred: undefined, tags: undefined, startedAt: 0 };
      request.meshwardSensor = st;
    }
    return st;
  };
  const caller = (request: FastifyRequest): SensorRequestState => {
    const st = stateOf(request);
    if (!st.resolved) {
      st.resolved = true;
      st.cred = readCredential(request.headers.authorization);
    }
    return st;
  };
  /** the user id the config names: a request property, a header, or the credential's JWT subject */
  const userOf = (request: FastifyRequest, cred: CallerCredential | undefined): string | undefined => {
    if (userFrom === 'request_property') return readProperty(request);
    if (userFrom === 'header') {
      const h = request.headers[userHeader];
      return typeof h === 'string' && h ? h.slice(0, 256) : undefined;
    }
    return cred?.sub;
  };

  const recordError = (err: unknown) => {
    recordErrors.inc({ sensor: config.sensor_id });
    logger.debug({ err: (err as Error).message }, 'could not record a request');
  };
  const dropped = counter('meshward_sensor_dropped_total', 'records a sensor dropped before delivery', [
    'sensor',
    'reason',
  ]);
  /** built off the hook, once per event-loop turn; the enforcer may already have resolved the caller */
  const record = (c: CapturedRequest) => {
    const request = c.request as FastifyRequest;
    const st = request.meshwardSensor;
    const cred = st?.resolved ? st.cred : readCredential(request.headers.authorization);
    if (injectedSink) injectedSink.push(buildRecord(c, ctx, cred, userOf(request, cred), st?.tags));
    else ownShipper?.push(buildRow(c, ctx, cred, userOf(request, cred), st?.tags));
  };
  const capture = new RequestCapture(
    CAPTURE_CAPACITY,
    record,
    () => dropped.inc({ sensor: config.sensor_id, reason: 'capture_full' }),
    recordError,
  );

  /** a finished request (with its reply) or one the client aborted (none) into the capture buffer; never throws */
  const captureRequest = (request: FastifyRequest, reply: FastifyReply | undefined): void => {
    try {
      const route = routeOf(request);
      if (route && ignored.has(route)) return;
      if (reply) {
        capture.add(request, reply, route);
      } else {
        const started = request.meshwardSensor?.startedAt ?? 0;
        capture.addAborted(request, route, started > 0 ? performance.now() - started : 0);
      }
      if (injectedSink) capture.drain();
    } catch (err) {
      recordError(err);
    }
  };

  fastify.addHook('onResponse', (request: FastifyRequest, reply: FastifyReply, next: HookHandlerDoneFunction) => {
    captureRequest(request, reply);
    next();
  });

  if (config.record_aborted) {
    fastify.addHook('onRequest', (request: FastifyRequest, _reply: FastifyReply, next: HookHandlerDoneFunction) => {
      stateOf(request).startedAt = performance.now();
      next();
    });
    fastify.addHook('onRequestAbort', (request: FastifyRequest, next: HookHandlerDoneFunction) => {
      captureRequest(request, undefined);
      next();
    });
  }

  let feed: { close?(): unknown; stop?(): unknown } | undefined;
  if (config.enforce.enabled) {
    const view = opts.decisions ?? new DecisionView();
    const enforce = createEnforcer({
      view,
      config: config.enforce,
      sensorId: config.sensor_id,
      logger,
      jwks: opts.jwks,
      caller: (request) => {
        const st = caller(request);
        return { cred: st.cred, sub: userOf(request, st.cred) };
      },
      service: (request) => config.service || request.hostname,
      mark: (request, d: Decision, action) => {
        const st = caller(request);
        st.tags = { meshward_decision: d.id, meshward_action: action };
      },
    });
    fastify.addHook(config.enforce.hook, enforce);
    if (!opts.decisions && config.enforce.decisions_url) {
      const follow: FollowDecisions = opts.followDecisions ?? followDecisions;
      feed = follow(config.enforce.decisions_url, {
        token: config.enforce.decisions_token || undefined,
        onUpsert: view.onUpsert,
        onRemove: view.onRemove,
      });
    }
  }

  fastify.addHook('onClose', async () => {
    clearInterval(expireCredentials);
    capture.drain();
    await (feed?.close?.() ?? feed?.stop?.());
    await ownShipper?.shutdown();
  });
  done();
}

/**
 * The meshward gateway sensor for Fastify: `app.register(meshwardSensor, { config: {...} })`. Records every request
 * after its response is sent and optionally enforces meshward decisions. Registered without encapsulation (like a
 * fastify-plugin plugin) so its hooks see every route of the app.
 */
export const meshwardSensor = Object.assign(meshwardSensorPlugin, {
  [Symbol.for('skip-override')]: true,
  [Symbol.for('fastify.display-name')]: 'meshward-sensor',
  [Symbol.for('plugin-meta')]: { name: 'meshward-sensor', fastify: '5.x' },
});
