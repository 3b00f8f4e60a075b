import { type Static, Type } from '@sinclair/typebox';
import { Severity } from '../../core/alert.js';

/**
 * Delivery options every sink takes beside its own keys: compileSinks merges them into each sink type's schema, so no
 * sink config repeats them. `deliver` has no schema default: its default depends on the sink (its factory's
 * `defaultDeliver`), `changes` where people read the messages (a Slack webhook), `all` where machines dedupe by id.
 */
export const SinkDeliveryConfig = Type.Object(
  {
    /**
     * all: every alert change on the alerts topic (each refresh of an ongoing alert too). changes: an alert this sink
     * has not delivered yet, a change of its state (open, acknowledged, resolved), a rise of its severity, and, while it
     * stays open, the alert again once `repeat_minutes` passed since this sink last delivered it; other refreshes are
     * skipped (meshward_sink_skipped_total{reason="unchanged"}). Default: changes for a webhook in the slack format,
     * all for every other sink
     */
    deliver: Type.Optional(Type.Union([Type.Literal('all'), Type.Literal('changes')])),
    /** with deliver: changes, repeat an alert still open after this many minutes since it was last delivered; 0 = never (default 240) */
    repeat_minutes: Type.Optional(Type.Integer({ minimum: 0, maximum: 43_200 })),
    /**
     * only alert changes at or above this severity (default info: all); the others are skipped before deliver:
     * changes weighs them (meshward_sink_skipped_total{reason="below_min_severity"}), so an alert this sink left out
     * is new to it once its severity rises to this
     */
    min_severity: Type.Optional(Severity),
  },
  { additionalProperties: false },
);
export type SinkDeliveryConfig = Static<typeof SinkDeliveryConfig>;

export type DeliverMode = 'all' | 'changes';
export const DEFAULT_REPEAT_MINUTES = 240;

/** the compiled delivery options of one sink */
export interface SinkDelivery {
  deliver: DeliverMode;
  /** 0: never repeat */
  repeatMs: number;
  minSeverity: Severity;
}
