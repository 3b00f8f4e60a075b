import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import type { ApiCallRecord } from '../../../core/record.js';
import type { ApiDiscoveryConfig } from '../config.js';
import { apiDiscoveryFactory } from '../factory.js';

/** the scenario of this folder: a catalogue (catalog.jsonl), its traffic (records.jsonl) and config (config.yaml) */
export const td = (f: string) => join(import.meta.dirname, f);

export const records = (): ApiCallRecord[] =>
  readFileSync(td('records.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));

/** the scenario's config over the defaults, with `catalog_files` (default: the scenario's catalogue) */
export const config = (catalogFiles = [td('catalog.jsonl')]): ApiDiscoveryConfig => ({
  ...apiDiscoveryFactory.defaultConfig,
  ...parse(readFileSync(td('config.yaml'), 'utf8')),
  catalog_files: catalogFiles,
});
