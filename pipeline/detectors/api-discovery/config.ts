import { type Static, Type } from '@sinclair/typebox';
import { defaultAssociationConfig } from '../../association/config.js';
import { boundedKeyRecord } from '../../core/bounded-key-record.js';

export const ApiDiscoveryConfigSchema = Type.Object(
  {
    /**
     * catalogue files: JSONL catalogues or OpenAPI 3 / Swagger 2 documents (JSON or YAML), loaded at start (a bad one
     * stops the start) and again when one changes on disk (size or modification time), at a shard's next checkpoint
     * (within checkpoint_interval_ms, traffic or not): its endpoints are matched again (a shadow API added to the catalogue is catalogued; one removed
     * is a shadow API again), analysts' reviews are kept, calls from then on take the new path templates. A changed
     * catalogue that does not load is logged and counted (meshward_api_discovery_catalog_reloads_total{result=
     * "invalid"}), and the one in force stays
     */
    catalog_files: Type.Array(Type.String({ minLength: 1 }), { default: [] }),
    /** calls an endpoint absent from the catalogue needs before it is reported as a shadow API */
    min_calls: Type.Integer({ minimum: 1, default: 20 }),
    /** association probability below which a label is `unassigned` (needs review) */
    min_confidence: Type.Number({ minimum: 0, maximum: 1, default: defaultAssociationConfig.min_confidence }),
    /**
     * the same for an API whose provider (registrable host domain; for an internal host, the service) the catalogue
     * does not know, when higher
     */
    unseen_provider_min_confidence: Type.Number({
      minimum: 0,
      maximum: 1,
      default: defaultAssociationConfig.unseen_provider_min_confidence,
    }),
    /** neighbours of the association model */
    k: Type.Integer({ minimum: 1, maximum: 200, default: 15 }),
    /** smoothing s of the association probabilities */
    smoothing: Type.Number({ minimum: 0, maximum: 10, default: 0.1 }),
    /** share of the linear scorer in the association probability (pipeline/association/README.md); 0 = kNN alone */
    linear_blend: Type.Number({ minimum: 0, maximum: 1, default: defaultAssociationConfig.linear_blend }),
    /**
     * weight of a known provider's own class mix in the association of its endpoints (times the square of the share
     * of its largest class, so a domain whose APIs span many clusters leans little; pipeline/association/README.md);
     * 0 = off
     */
    provider_prior: Type.Number({ minimum: 0, maximum: 1, default: defaultAssociationConfig.provider_prior }),
    /**
     * a shadow endpoint of a provider (registrable host domain; for an internal host, its service) the catalogue does
     * not know is associated together with the endpoints of that provider this shard reported before: it gets the
     * mean of their class probabilities (the label's `pooled` says how many), and those still shadow take the pooled
     * labels in the inventory too. On
     * the APIs-guru new-provider split, associating each new provider's APIs together takes accuracy from 0.37 to
     * 0.44 (pipeline/association/README.md). false: each endpoint on its own
     */
    pool_unseen_provider: Type.Boolean({ default: defaultAssociationConfig.pool_unseen_provider }),
    /**
     * per label dimension, the weight of the class mix of a shadow endpoint's callers (their catalogued APIs; a
     * caller weighs 1 / the services it calls, so a gateway says little) when its provider is new to the catalogue
     * (pipeline/association/README.md); the map is merged over the defaults, so a dimension left out keeps its default
     * (lineOfBusiness and appCode 0.5) and 0 turns one off. Callers say which application a new
     * service serves, not what kind of API it is: category is off by default
     */
    peer_prior: boundedKeyRecord({ minLength: 1, maxLength: 64 }, Type.Number({ minimum: 0, maximum: 1 }), {
      default: defaultAssociationConfig.peer_prior,
    }),
    /**
     * for a shadow endpoint of a provider the catalogue does not know: a class whose name's words all appear among its
     * words (service, path, parameters) weighs e^β times more, β this value (pipeline/association/README.md); 0 = off
     */
    label_name_prior: Type.Number({ minimum: 0, maximum: 5, default: defaultAssociationConfig.label_name_prior }),
    /** endpoints kept in this shard's inventory (LRU) */
    max_endpoints: Type.Integer({ minimum: 1, default: 50_000 }),
    /**
     * days of event time (record time) after its last call an endpoint is forgotten: a route renamed, a service
     * retired, a template a catalogue reload changed stop being listed (their documents are deleted, counted in
     * meshward_inventory_forgotten_total); called again, it is a new entry (first seen then), and a reviewed one keeps
     * its review. 0 = never (only max_endpoints evicts). 90 rather than 30: a monthly job's endpoints (billing runs,
     * month-end reports) stay listed, a quarterly one's come back as new; meanwhile GET /v1/inventory's
     * last_seen_before lists the quiet ones
     */
    forget_endpoints_after_days: Type.Integer({ minimum: 0, maximum: 3650, default: 90 }),
    /**
     * distinct literal values at one path position (per service, method and prefix) before it is folded into
     * `{param}`; 0 disables learning. 200 rather than 50: on the APIs-guru definitions (npm run eval:templating) 50
     * merged 10–13% of the defined endpoints (static siblings such as `/config/<name>` folded together), 200 merges
     * 3–4% and gets 76–80% of the endpoints exactly right against 72–76%
     */
    route_max_distinct: Type.Integer({ minimum: 0, default: 200 }),
    /**
     * a position is also folded as soon as it has this many distinct values and at least 95% of the calls counted
     * there brought a new one (user names, slugs: parameter values keep coming, static siblings repeat); 0 = only
     * route_max_distinct. On the APIs-guru definitions (npm run eval:templating, uniform traffic, with the pinned
     * versions) the endpoints exactly right go from 76% / 80% to 83% / 90% at 10 / 50 calls each, merges from
     * 2.8% / 3.8% to 2.9% / 4.0%; under skewed traffic +1.4 points (pipeline/inventory/README.md). Traffic that walks
     * more static siblings than this in strict rotation (a monitor, a load-test script; with route_across_methods
     * the siblings of all methods of a prefix count together) folds them: raise it, or 0, for such services
     */
    route_min_novel: Type.Integer({ minimum: 0, default: 24 }),
    /**
     * a position with at least 64 distinct values, a fifth of whose calls are of values seen once, is also folded
     * once the number of values it is estimated to have (Chao1, from the values seen once and twice) reaches this: a
     * parameter whose popular values repeat (frequent users) still brings many values seen once, a static set of
     * siblings soon brings none. 0 = off. Under skewed traffic on the APIs-guru definitions (npm run eval:templating
     * --traffic zipf) the endpoints exactly right go from 74% / 78% to 77% / 81% at 10 / 50 calls each, merges +0.1
     * points; uniform traffic +0.8 / +0.9 points right, merges +0.2 / +0.3 (pipeline/inventory/README.md)
     */
    route_estimated_distinct: Type.Integer({ minimum: 0, default: 300 }),
    /**
     * the learner counts the values of a position under every method together (`GET /users/alice`, `DELETE
     * /users/bob` are two values of `/users/`), and its folds apply to all methods of the service; false: per
     * method. On the APIs-guru definitions (npm run eval:templating) the endpoints exactly right go from 84% to 89%
     * at 10 calls each (uniform traffic; 77% to 80% skewed), merges +0.3 to +0.5 points (pipeline/inventory/README.md)
     */
    route_across_methods: Type.Boolean({ default: true }),
    /**
     * a position the learner folds keeps literal the action names among its values (`addThingToThingGroup` beside
     * `/thing-groups/{name}`, `$count` and `microsoft.graph.delta()` beside `/instances/{id}`, `people:batchGet`)
     * when they are at most this share of the values it has seen (names first called later, while fewer): the API's
     * own static siblings, not values. Where more of its values look so, they are the parameter's and fold with it.
     * 0 = off (pipeline/inventory/README.md)
     */
    route_kept_share: Type.Number({ minimum: 0, maximum: 1, default: 0.1 }),
    /**
     * the values after a literal segment that precedes several positions of a service are also counted together
     * (`secrets` of `/orgs/{org}/actions/secrets/…` and `/repos/{owner}/{repo}/actions/secrets/…`), and fold every
     * such position when together they are many: a rarely called endpoint learns from its siblings. On the APIs-guru
     * definitions (npm run eval:templating) endpoints exactly right under skewed traffic 79.9% / 85.1% to 81.8% /
     * 87.2% at 10 / 50 calls each, uniform 89.0% to 90.8% at 10 calls; merges +0.1 points at most
     * (pipeline/inventory/README.md)
     */
    route_shared_words: Type.Boolean({ default: true }),
    /**
     * a call of a service or host the catalogue has entries for takes the path template its entry defines
     * (`/key/alice` → `/key/{name}`, as the API's router would), before value-shape templating and learning: a
     * catalogued parameter is one endpoint from its first call, not a shadow API per value. A parameter named as an
     * id (`{id}`, `{userId}`) takes value-like segments only, so `/users/export` beside `/users/{userId}` stays a
     * shadow endpoint; an undocumented word beside a word parameter (`/keys/export` beside `/keys/{keyName}`) is
     * that parameter's endpoint. false: templating by value shape and learning alone
     */
    catalog_routes: Type.Boolean({ default: true }),
    /**
     * API drift: a catalogued endpoint called with a parameter name (of the query string, or kept by the sensor) that
     * its catalogue endpoint does not define, when the endpoint lists its parameters (OpenAPI documents always do; a
     * JSONL endpoint without `params` is not checked), is reported as `undocumented_param`: when a new such name is
     * seen, the endpoint's one alert naming every undocumented name so far (names are compared case-insensitively).
     * false: off
     */
    undocumented_params: Type.Boolean({ default: true }),
    undocumented_param_severity: Type.Union(
      [Type.Literal('info'), Type.Literal('low'), Type.Literal('medium'), Type.Literal('high')],
      { default: 'low' },
    ),
    /**
     * an endpoint called with a query parameter whose name says it carries a credential (`access_token`, `apiKey`,
     * `password`), personal data (`email`, `ssn`) or payment data (`card_number`) is reported as
     * `sensitive_query_param`: URLs are kept in logs, browser history and Referer headers (CWE-598). By name only (the
     * sensors redact such values); paging tokens and OAuth's redirect `code` are not counted. One alert per endpoint,
     * updated as names are added. false: off
     */
    sensitive_query_params: Type.Boolean({ default: true }),
    sensitive_query_param_severity: Type.Union(
      [Type.Literal('info'), Type.Literal('low'), Type.Literal('medium'), Type.Literal('high')],
      { default: 'medium' },
    ),
    /**
     * a catalogued endpoint whose catalogue entry requires a credential (OpenAPI `security`, or `security: required`
     * on a JSONL endpoint) that answers calls carrying none (no token, client certificate or API-key parameter) is
     * reported as `unauthenticated_access` (severity high, rule `documented`) once `unauthenticated_calls` such calls
     * were accepted, and refreshed by the later ones (counting them as the unauthenticated_access tracker does, whose
     * alert for the endpoint is the same one). false: off
     */
    documented_security: Type.Boolean({ default: true }),
    unauthenticated_calls: Type.Integer({ minimum: 1, default: 3 }),
    shadow_severity: Type.Union(
      [Type.Literal('info'), Type.Literal('low'), Type.Literal('medium'), Type.Literal('high')],
      { default: 'medium' },
    ),
    zombie_severity: Type.Union(
      [Type.Literal('info'), Type.Literal('low'), Type.Literal('medium'), Type.Literal('high')],
      { default: 'high' },
    ),
  },
  { additionalProperties: false },
);
export type ApiDiscoveryConfig = Static<typeof ApiDiscoveryConfigSchema>;

export const defaultApiDiscoveryConfig: ApiDiscoveryConfig = {
  catalog_files: [],
  min_calls: 20,
  min_confidence: defaultAssociationConfig.min_confidence,
  unseen_provider_min_confidence: defaultAssociationConfig.unseen_provider_min_confidence,
  k: 15,
  smoothing: 0.1,
  linear_blend: defaultAssociationConfig.linear_blend,
  provider_prior: defaultAssociationConfig.provider_prior,
  pool_unseen_provider: defaultAssociationConfig.pool_unseen_provider,
  peer_prior: defaultAssociationConfig.peer_prior,
  label_name_prior: defaultAssociationConfig.label_name_prior,
  max_endpoints: 50_000,
  forget_endpoints_after_days: 90,
  route_max_distinct: 200,
  route_min_novel: 24,
  route_estimated_distinct: 300,
  route_across_methods: true,
  route_kept_share: 0.1,
  route_shared_words: true,
  catalog_routes: true,
  undocumented_params: true,
  undocumented_param_severity: 'low',
  sensitive_query_params: true,
  sensitive_query_param_severity: 'medium',
  documented_security: true,
  unauthenticated_calls: 3,
  shadow_severity: 'medium',
  zombie_severity: 'high',
};
