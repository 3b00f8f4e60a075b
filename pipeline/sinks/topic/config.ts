import { type Static, Type } from '@sinclair/typebox';

export const TopicSinkConfig = Type.Object(
  {
    /** bus topic to publish to (Kafka in distributed mode) */
    topic: Type.String({ minLength: 1, default: 'meshward.alerts.ocsf' }),
    /** the alert as is, or an OCSF Detection Finding */
    format: Type.Union([Type.Literal('json'), Type.Literal('ocsf')], { default: 'ocsf' }),
  },
  { additionalProperties: false },
);
export type TopicSinkConfig = Static<typeof TopicSinkConfig>;
