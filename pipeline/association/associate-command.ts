import { readFile, writeFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { Type } from '@sinclair/typebox';
import { mwError } from '../core/errors.js';
import { unwritableFile } from '../core/failure-line.js';
import { entryDescription } from '../inventory/catalog/catalog.js';
import { LABEL_DIMENSIONS } from '../inventory/catalog/catalog-entry.js';
import { loadCatalogFiles, unreadableCatalog } from '../inventory/catalog/load.js';
import { checkOrThrow } from '../inventory/catalog/validate.js';
import type { AssociationConfig } from './config.js';
import { anyDescription } from './describe.js';
import { type LabelPrediction, SmartKnn } from './smart-knn.js';
import { exportTraffic } from './traffic-context.js';

export interface AssociateOptions {
  /** catalogue file(s): JSONL or OpenAPI / Swagger documents, with labels */
  catalogPath: string | string[];
  /**
   * the APIs to associate, one batch: JSONL files of catalogue-style or inventory entries (service, method, route),
   * and OpenAPI 3 / Swagger 2 documents (`.json`, `.yaml`, `.yml`), one API each
   */
  apisPath: string | string[];
  outPath: string;
  k?: number;
  smoothing?: number;
  minConfidence?: number;
  config?: Partial<AssociationConfig>;
}

export interface AssociationLine {
  id: string;
  /**
   * candidate: the most probable class when value is `unassigned`; pooled: the APIs of the same unseen provider in
   * this batch (this one included) whose probabilities were averaged
   */
  labels: Record<
    string,
    { value: string; probability: number; neighbours: string[]; candidate?: string; pooled?: number }
  >;
}

/** `--apis` files read as one OpenAPI / Swagger document each (others are JSONL) */
const OPENAPI_EXTENSIONS = new Set(['.json', '.yaml', '.yml']);

const ApiLine = Type.Object({ id: Type.String({ minLength: 1, maxLength: 512 }) }, { additionalProperties: true });

/**
 * `meshward associate --catalog <file> --apis <file>`: trains the smart kNN on the labelled catalogue and writes one
 * JSONL prediction per API: `{id, labels: {dim: {value, probability, neighbours}}}`. Returns the lines written.
 */
export async function runAssociate(opts: AssociateOptions): Promise<{ written: number; unassigned: number }> {
  const catalog = await loadCatalogFiles(Array.isArray(opts.catalogPath) ? opts.catalogPath : [opts.catalogPath]);
  const labelled = catalog.filter((e) => LABEL_DIMENSIONS.some((d) => e.labels[d]));
  if (labelled.length === 0)
    throw mwError('CATALOG_INVALID', `${opts.catalogPath}: no entry carries labels to learn from`);
  const model = new SmartKnn({
    ...opts.config,
    ...(opts.k !== undefined ? { k: opts.k } : {}),
    ...(opts.smoothing !== undefined ? { smoothing: opts.smoothing } : {}),
    ...(opts.minConfidence !== undefined ? { min_confidence: opts.minConfidence } : {}),
  });
  model.fit(
    labelled.map((e) => ({ id: e.id, api: entryDescription(e), labels: { ...e.labels } as Record<string, string> })),
  );
  const dims = LABEL_DIMENSIONS.filter((d) => labelled.some((e) => e.labels[d]));

  const items: ({ id: string } & Record<string, unknown>)[] = [];
  for (const file of Array.isArray(opts.apisPath) ? opts.apisPath : [opts.apisPath])
    items.push(...(await readApis(file)));
  // one batch: the APIs of one unseen provider are associated together (pool_unseen_provider)
  // an inventory export's callers: weighed by the services each calls, trusted as far as its labelled entries show
  const traffic = exportTraffic(items, model, dims);
  const preds = model.predictBatch(
    items.map((v) => anyDescription(v, traffic)),
    dims,
  );
  const out: string[] = [];
  let unassigned = 0;
  items.forEach((item, i) => {
    const labels: AssociationLine['labels'] = {};
    for (const [dim, p] of Object.entries(preds[i]) as [string, LabelPrediction][]) {
      labels[dim] = { ...p, probability: Number(p.probability.toFixed(4)) };
      if (p.value === 'unassigned') unassigned++;
    }
    out.push(JSON.stringify({ id: item.id, labels } satisfies AssociationLine));
  });
  await writeFile(opts.outPath, out.length ? `${out.join('\n')}\n` : '').catch((err: unknown) => {
    throw unwritableFile(opts.outPath, err);
  });
  return { written: out.length, unassigned };
}

/** the APIs of one `--apis` file: an OpenAPI / Swagger document (one API), else JSONL lines (`#` comments skipped) */
async function readApis(file: string): Promise<({ id: string } & Record<string, unknown>)[]> {
  if (OPENAPI_EXTENSIONS.has(extname(file).toLowerCase())) {
    const [entry] = await loadCatalogFiles([file]);
    return [{ ...entry }];
  }
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw unreadableCatalog(file, err);
  }
  const items: ({ id: string } & Record<string, unknown>)[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (!line || line.startsWith('#')) continue;
    const where = `${file} line ${i + 1}`;
    let v: unknown;
    try {
      v = JSON.parse(line);
    } catch {
      throw mwError('CATALOG_INVALID', `${where}: not valid JSON`);
    }
    items.push(checkOrThrow<{ id: string } & Record<string, unknown>>(ApiLine, v, where));
  }
  return items;
}
