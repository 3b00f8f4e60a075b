import type { Static, TSchema } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { schemaProblems } from '../../config/schema-problems.js';
import { checkSection } from '../../config/section.js';
import { mwError } from '../../core/errors.js';
import { counter } from '../../core/metrics.js';

/** the config a schema describes with every default filled in (fails fast when the defaults do not validate) */
export function defaultsOf<T extends TSchema>(schema: T): Static<T> {
  const v = Value.Default(schema, {}) as Static<T>;
  if (!Value.Check(schema, v)) throw mwError('CONFIG_INVALID', schemaProblems(schema, v).join('; '));
  return v;
}

/** validates a config (defaults filled in), naming the offending key */
export function checkConfig<T extends TSchema>(type: string, schema: T, raw: unknown): Static<T> {
  return checkSection(schema, raw, `detectors.${type}`);
}

const restoreRejected = counter(
  'meshward_detector_restore_rejected_total',
  'Detector checkpoints that could not be restored (state started empty instead)',
  ['type'],
);

/**
 * Restores a checkpoint; a checkpoint of the wrong shape (another version, corruption) is counted and the detector
 * starts empty instead of crashing the correlator.
 */
export function safeRestore(
  type: string,
  state: unknown,
  apply: (s: Record<string, unknown>) => void,
  reset: () => void,
): void {
  if (state === undefined || state === null) {
    reset();
    return;
  }
  try {
    if (typeof state !== 'object') throw new TypeError('checkpoint is not an object');
    apply(state as Record<string, unknown>);
  } catch {
    restoreRejected.inc({ type });
    reset();
  }
}

/** running mean and variance with exponential forgetting (Welford-style update of an EWMA) */
export class Ewma {
  n = 0;
  mean = 0;
  variance = 0;

  constructor(readonly alpha: number) {}

  push(x: number): void {
    this.n++;
    if (this.n === 1) {
      this.mean = x;
      this.variance = 0;
      return;
    }
    const a = Math.max(this.alpha, 1 / this.n);
    const d = x - this.mean;
    this.mean += a * d;
    this.variance = (1 - a) * (this.variance + a * d * d);
  }

  get std(): number {
    return Math.sqrt(this.variance);
  }

  toJSON(): [number, number, number] {
    return [this.n, this.mean, this.variance];
  }

  static from(alpha: number, j: [number, number, number]): Ewma {
    const e = new Ewma(alpha);
    [e.n, e.mean, e.variance] = j;
    return e;
  }
}
