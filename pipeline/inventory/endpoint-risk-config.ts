import { type Static, Type } from '@sinclair/typebox';
import { mwError } from '../core/errors.js';
import { DEFAULT_RISK_MODEL, ENDPOINT_RISK, RISK_FACTOR_NAMES, type RiskModel } from './endpoint-risk.js';

const Points = Type.Integer({ minimum: 0, maximum: 100 });
const Threshold = Type.Integer({ minimum: 1, maximum: 100 });

/** `api.inventory_risk`: the endpoint risk score's points and levels (pipeline/inventory/endpoint-risk.ts) */
export const EndpointRiskConfigSchema = Type.Object(
  {
    // a map whose keys must be factor names: a key outside is refused naming the key and the names allowed
    points: Type.Optional(
      Type.Record(Type.String({ pattern: `^(${RISK_FACTOR_NAMES.join('|')})$` }), Points, {
        additionalProperties: false,
        description: `points per risk factor, each 0 to 100 (0: not weighed), over the defaults: ${RISK_FACTOR_NAMES.map((f) => `${f} ${ENDPOINT_RISK.points[f]}`).join(', ')}`,
      }),
    ),
    levels: Type.Optional(
      Type.Object(
        {
          high: Type.Optional({
            ...Threshold,
            description: `a score at or above this is high (default ${ENDPOINT_RISK.levels.high})`,
          }),
          medium: Type.Optional({
            ...Threshold,
            description: `a score at or above this (and below high) is medium (default ${ENDPOINT_RISK.levels.medium})`,
          }),
        },
        { additionalProperties: false },
      ),
    ),
  },
  {
    additionalProperties: false,
    description:
      "the inventory's endpoint risk score (GET /v1/inventory items' `risk`, sort=risk): points per factor and the levels' thresholds",
  },
);
export type EndpointRiskConfig = Static<typeof EndpointRiskConfigSchema>;

/**
 * the model in force: the table with the configuration's points and thresholds over it. Refuses (CONFIG_INVALID,
 * the key named as `where` names the section) a medium threshold that is not below the high one
 */
export function riskModelOf(config: EndpointRiskConfig | undefined, where = 'api.inventory_risk'): RiskModel {
  if (!config) return DEFAULT_RISK_MODEL;
  const levels = { ...ENDPOINT_RISK.levels, ...config.levels };
  if (levels.medium >= levels.high)
    throw mwError('CONFIG_INVALID', `${where}.levels: medium (${levels.medium}) must be below high (${levels.high})`);
  return { points: { ...ENDPOINT_RISK.points, ...config.points }, levels };
}
