import { type Command, InvalidArgumentError, Option } from 'commander';
import type { InventoryReview } from '../api/inventory-routes.js';
import type { ApiEntry } from '../inventory/api-entry.js';
import type { EndpointRisk } from '../inventory/endpoint-risk.js';
import { callApi, callApiText } from './analyst-client.js';
import { type AnalystCli, ago, iso, minutes, notFound, oneLine, splitSkipped, table } from './analyst-cli.js';

/** an entry as a review leaves it */
type Reviewed = ApiEntry & { review?: InventoryReview };

/** `meshward inventory …`: list endpoints, export a service as OpenAPI, review labels */
export function registerInventoryCommands(program: Command, cli: AnalystCli): void {
  const { out, connection, json, asJson } = cli;
  const inventory = cli.group(
    program,
    'inventory',
    'the API inventory: endpoints seen in traffic, a service as OpenAPI',
  );
  inventory
    .command('list')
    .description('endpoints seen in traffic, most recently seen first (--sort risk: riskiest first)')
    .option('--state <state>', 'new, catalogued, shadow, zombie or reviewed')
    .option('--service <name>')
    .option('--sensitive <kind>', 'with a parameter that says it takes: credential, personal, payment or any')
    .option('--new <duration>', 'first seen within this: 24h, 7d, 30d', minutes)
    .option('--active <duration>', 'called within this: 1h, 24h', minutes)
    .option('--quiet <duration>', 'not called for this: 24h, 7d, 30d (what traffic no longer reaches)', minutes)
    .option('--route <text>', 'whose route contains this (any case)')
    .option('--anonymous', 'that answered calls carrying no credential')
    .option('--min-risk <n>', 'whose risk score is at least this (0-100)', riskScore)
    .addOption(
      new Option('--sort <order>', 'last-seen: most recently called first; risk: highest risk score first')
        .choices(['last-seen', 'risk'])
        .default('last-seen'),
    )
    .option('--limit <n>', 'at most this many', '100')
    .action(async (f: Record<string, string | number | boolean | undefined>, cmd: Command) => {
      const q = new URLSearchParams({ limit: String(f.limit) });
      for (const [flag, param] of [
        ['state', 'state'],
        ['service', 'service'],
        ['sensitive', 'sensitive'],
        ['route', 'q'],
      ] as const)
        if (typeof f[flag] === 'string') q.set(param, f[flag] as string);
      if (f.anonymous) q.set('anonymous', 'true');
      if (typeof f.minRisk === 'number') q.set('min_risk', String(f.minRisk));
      if (f.sort === 'risk') q.set('sort', 'risk');
      const now = Date.now();
      if (typeof f.new === 'number') q.set('first_seen_after', String(now - f.new * 60_000));
      if (typeof f.active === 'number') q.set('last_seen_after', String(now - f.active * 60_000));
      if (typeof f.quiet === 'number') q.set('last_seen_before', String(now - f.quiet * 60_000));
      type Shown = ApiEntry & { sensitive?: Record<string, string[]>; risk?: EndpointRisk };
      const page = await callApi<{ items: Shown[]; next?: string }>(connection(cmd), 'GET', `/v1/inventory?${q}`);
      if (json(cmd)) return out(asJson(page));
      const anonymousShare = (e: Shown) => {
        const a = e.auth;
        const total = a ? a.token + a.mtls + a.key + a.none : 0;
        return total ? `${Math.round((100 * (a?.none ?? 0)) / total)}%` : '-';
      };
      out(
        table(
          [
            'ID',
            'RISK',
            'STATE',
            'METHOD',
            'ROUTE',
            'SERVICE',
            'CALLS',
            'ANONYMOUS',
            'DATA',
            'FIRST SEEN',
            'LAST SEEN',
            'CATEGORY',
          ],
          page.items.map((e) => {
            const category = e.labels.category;
            return [
              e.id,
              e.risk ? `${e.risk.score} ${e.risk.level}` : '-',
              e.state,
              e.method,
              oneLine(e.route, 60),
              e.service,
              e.count,
              anonymousShare(e),
              Object.keys(e.sensitive ?? {}).join(',') || '-',
              iso(e.firstSeen),
              ago(e.lastSeen, now),
              category
                ? `${category.value === 'unassigned' ? `${category.candidate ?? '?'}?` : category.value} ${Math.round(100 * category.probability)}%`
                : '-',
            ];
          }),
        ),
      );
      if (page.next) out(`(more: --limit ${Number(f.limit) * 2}, or filter)\n`);
    });
  inventory
    .command('openapi')
    .description(
      'what traffic showed of a service as an OpenAPI 3.0 document (to review and add to the catalogue), on stdout',
    )
    .requiredOption('--service <name>')
    .option('--state <state>', 'only its endpoints in this state, e.g. shadow')
    .option('--yaml', 'YAML rather than JSON')
    .action(async (f: { service: string; state?: string; yaml?: boolean }, cmd: Command) => {
      const q = new URLSearchParams({ service: f.service, format: f.yaml ? 'yaml' : 'json' });
      if (f.state) q.set('state', f.state);
      const text = await callApiText(connection(cmd), 'GET', `/v1/inventory/openapi?${q}`);
      out(f.yaml ? text : `${JSON.stringify(JSON.parse(text), null, 2)}\n`);
    });
  inventory
    .command('review')
    .description('confirm or correct the labels of endpoints: they become reviewed, and the model learns them')
    .argument('<ids...>', 'inventory entry ids (the ID column of inventory list)')
    .option('--category <value>')
    .option('--line-of-business <value>')
    .option('--app-code <value>')
    .option('--confirm', 'keep the predicted labels that were assigned, for the dimensions not given')
    .option('-m, --comment <text>')
    .action(async (ids: string[], f: Record<string, string | boolean | undefined>, cmd: Command) => {
      const labels: Record<string, string> = {};
      for (const [flag, dim] of [
        ['category', 'category'],
        ['lineOfBusiness', 'lineOfBusiness'],
        ['appCode', 'appCode'],
      ] as const)
        if (typeof f[flag] === 'string') labels[dim] = f[flag] as string;
      const ask = 'give the labels (--category, --line-of-business, --app-code), or --confirm the predicted ones';
      if (Object.keys(labels).length === 0 && !f.confirm) throw new InvalidArgumentError(ask);
      // the server's bulk review: it confirms what was assigned (never `unassigned`) and says what it left
      const r = await callApi<{ items: Reviewed[]; skipped: { id: string; reason: string }[] }>(
        connection(cmd),
        'POST',
        '/v1/inventory/review',
        {
          ids,
          ...(f.confirm ? { confirm: true } : {}),
          ...(Object.keys(labels).length ? { labels } : {}),
          ...(typeof f.comment === 'string' ? { comment: f.comment } : {}),
        },
      );
      const { missing, left } = splitSkipped(r.skipped);
      if (r.items.length === 0 && missing.length === 0)
        throw new InvalidArgumentError(`${left[0].id}: ${left[0].reason}; ${ask}`);
      if (json(cmd)) out(asJson(r));
      else {
        for (const e of r.items) {
          const shown = Object.entries(e.review?.labels ?? {})
            .map(([dim, v]) => `${dim}=${v}`)
            .join(' ');
          out(`${e.id}  ${e.state}  ${shown}\n`);
        }
        for (const s of left) out(`${s.id}  left as it was: ${s.reason}\n`);
      }
      // the others were reviewed; an id that names no entry ends the command with MW_ERR_NOT_FOUND (exit 2)
      if (missing.length) throw notFound(['inventory entry', 'inventory entries'], missing);
    });
}

/** a risk score for --min-risk: a whole number from 0 to 100 */
function riskScore(v: string): number {
  if (!/^\d{1,3}$/.test(v) || Number(v) > 100) throw new InvalidArgumentError('a whole number from 0 to 100');
  return Number(v);
}
