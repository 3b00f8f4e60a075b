import { checkSection } from '../config/section.js';
import { mwError } from '../core/errors.js';
import type { Detector, DetectorFactory, PrepareOptions } from './detector.js';

/** every detector type meshward knows; a config enables them by type id */
const FACTORIES: DetectorFactory<unknown>[] = [];

export function registerDetector(f: DetectorFactory<unknown>): void {
  if (FACTORIES.some((x) => x.type === f.type)) throw new Error(`detector type ${f.type} registered twice`);
  FACTORIES.push(f);
}

export function detectorFactories(): readonly DetectorFactory<unknown>[] {
  return FACTORIES;
}

/** whether a `detectors:` entry leaves its detector on: every one runs unless its entry is null or has `enabled: false` */
export function detectorRuns(entry: unknown): boolean {
  return !(entry === null || (typeof entry === 'object' && (entry as { enabled?: unknown }).enabled === false));
}

export interface CompiledDetectors {
  types: string[];
  /** a fresh set for one shard; `only`: of the types it keeps (a keyed stream's shard runs one) */
  create(only?: (type: string) => boolean): Detector[];
  /**
   * what the type's prepare made of its config (what its create receives: custom_rules' compiled rules), undefined
   * when the type is off; for the offline tools that look into a detector (`meshward rules test`)
   */
  prepared(type: string): unknown;
}

/**
 * Validates the `detectors:` section against each factory's schema (fail fast, naming the key) and returns a
 * constructor of per-shard detector sets. Every registered detector runs, with its defaults; a key of the section
 * tunes its detector, and `enabled: false` or `null` turns it off. (Before 2026-12-01 a section ran only the
 * detectors it named: giving api_discovery its catalogue turned off every threat detector, silently.) With
 * `readFiles: false` the files the section names are not read (a process that only checks the section).
 */
export function compileDetectors(
  section: Record<string, unknown> | undefined,
  options: PrepareOptions = {},
): CompiledDetectors {
  const chosen: { factory: DetectorFactory<unknown>; config: unknown }[] = [];
  const entries = { ...Object.fromEntries(FACTORIES.map((f) => [f.type, {}])), ...section };
  for (const [type, raw] of Object.entries(entries)) {
    const factory = FACTORIES.find((f) => f.type === type);
    if (!factory)
      throw mwError(
        'CONFIG_INVALID',
        `detectors.${type}: unknown detector type (known: ${FACTORIES.map((f) => f.type).join(', ')})`,
      );
    if (!detectorRuns(raw)) continue;
    const { enabled: _ignored, ...rest } = (raw ?? {}) as Record<string, unknown>;
    // a section that is not a mapping goes to checkSection whole, to be refused (spread, `[1]` would be `{"0": 1}`)
    const section = typeof raw === 'object' && !Array.isArray(raw) ? rest : raw;
    const config = checkSection(factory.configSchema, section, `detectors.${type}`, factory.defaultConfig as object);
    chosen.push({ factory, config: factory.prepare ? factory.prepare(config, options) : config });
  }
  return {
    types: chosen.map((c) => c.factory.type),
    create: (only) => chosen.filter((c) => !only || only(c.factory.type)).map((c) => c.factory.create(c.config)),
    prepared: (type) => chosen.find((c) => c.factory.type === type)?.config,
  };
}
