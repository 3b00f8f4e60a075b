/** a sensor's quiet threshold by its kind, ms (0: no sensor_quiet alert for it) */
export type QuietThresholdOf = (kind: string) => number;

/**
 * A sensor's quiet threshold: its kind's (`api.sensor_quiet_by_kind`) when the config names the kind, else `defaultMs`
 * (`api.sensor_quiet_after_minutes`). Compiled once into a map, so a kind is only ever one the config names (a sensor
 * of kind `constructor` gets the default, not a property every object has)
 */
export function quietThresholdOf(defaultMs: number, byKindMs: Readonly<Record<string, number>> = {}): QuietThresholdOf {
  const byKind = new Map(Object.entries(byKindMs));
  return (kind) => byKind.get(kind) ?? defaultMs;
}

/** `api.sensor_quiet_by_kind` (minutes per kind) in ms per kind, as the watcher and the admin API take it */
export function quietAfterMsByKindOf(byKindMinutes: Readonly<Record<string, number>>): Record<string, number> {
  return Object.fromEntries(Object.entries(byKindMinutes).map(([kind, minutes]) => [kind, minutes * 60_000]));
}
