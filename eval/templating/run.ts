/**
 * `npm run eval:templating`: path templating quality on the APIs-guru definitions (see evaluate.ts). Prints, for a
 * few traffic volumes and route learner settings (route_max_distinct: 200, the default; 50; 0 = off), the share of defined endpoints whose
 * calls form exactly one route of the defined shape, and the splits, merges and reshapes, with examples of the first
 * setting. Usage: node dist/eval/templating/run.js [--data <dir>] [--calls 10,50] [--learner 200,50,0] [--seed 1]
 * [--every n (every n-th definition)] [--catalogued 0,0.7 (share of each API's endpoints in a catalogue)]
 * [--traffic uniform|zipf (skewed endpoint and value popularity)] [--min-novel 24,0 (route_min_novel; default the learner's)]
 * [--estimated 300,0 (route_estimated_distinct; default the learner's)] [--per-method (route_across_methods false)]
 * [--kept-share 0.1 (action names a folding position keeps, as a share of its values; 0 = off)]
 * [--no-shared-words (each position counted alone, not also with the others after the same word)]
 * [--server-paths (calls carry the path of the API's server URL before the defined path, as a gateway sees them)]
 */
import { pathToFileURL } from 'node:url';
import { defaultDataDir, loadGuru } from '../association/data.js';
import { evaluateTemplating, type TemplatingCounts } from './evaluate.js';
import { defaultRouteLearnerOptions } from '../../pipeline/inventory/route-learner.js';

function main(argv: string[]): void {
  const at = (flag: string) => (argv.includes(flag) ? argv[argv.indexOf(flag) + 1] : undefined);
  const data = loadGuru(at('--data') ?? defaultDataDir());
  const volumes = (at('--calls') ?? '10,50').split(',').map(Number);
  const learners = (at('--learner') ?? '200,50,0').split(',').map(Number);
  const seed = Number(at('--seed') ?? 1);
  const every = Number(at('--every') ?? 1);
  const shares = (at('--catalogued') ?? '0,0.7').split(',').map(Number);
  const traffic = at('--traffic') === 'zipf' ? 'zipf' : 'uniform';
  const novelties = (at('--min-novel') ?? String(defaultRouteLearnerOptions.minNovel)).split(',').map(Number);
  const acrossMethods = !argv.includes('--per-method');
  const estimates = (at('--estimated') ?? String(defaultRouteLearnerOptions.estimatedDistinct)).split(',').map(Number);
  const keptShare = Number(at('--kept-share') ?? defaultRouteLearnerOptions.keptShare);
  const sharedWords = !argv.includes('--no-shared-words');
  const serverPaths = argv.includes('--server-paths');
  const pct = (n: number, of: number) => `${((100 * n) / of).toFixed(1)}%`;
  console.log(
    `templating on ${data.apis.length} APIs-guru definitions (defined endpoints = method + path template), ${traffic} traffic, learning ${acrossMethods ? 'across methods' : 'per method'}, action names kept up to ${keptShare} of a position's values, ${sharedWords ? 'values after a word counted together across its positions' : 'each position alone'}${serverPaths ? ', server URL paths before the defined paths' : ''}\n`,
  );
  console.log(
    '| calls per endpoint | route learner | min novel | estimated | catalogued | endpoints | right | split | merged | reshaped | catalogued endpoints: right / split / merged | shadow endpoints: right / split / merged |',
  );
  console.log('|---|---|---|---|---|---|---|---|---|---|---|---|');
  let last: ReturnType<typeof evaluateTemplating> | undefined;
  const three = (c: TemplatingCounts) =>
    c.endpoints ? `${pct(c.right, c.endpoints)} / ${pct(c.split, c.endpoints)} / ${pct(c.merged, c.endpoints)}` : '–';
  const settings = volumes.flatMap((calls) =>
    learners.flatMap((maxDistinct) =>
      (maxDistinct ? novelties : [0]).flatMap((minNovel) =>
        (maxDistinct ? estimates : [0]).flatMap((estimatedDistinct) =>
          shares.map((catalogued) => ({ calls, maxDistinct, minNovel, estimatedDistinct, catalogued })),
        ),
      ),
    ),
  );
  for (const setting of settings) {
    const { calls, maxDistinct, minNovel, estimatedDistinct, catalogued } = setting;
    const t0 = performance.now();
    const res = evaluateTemplating(data.apis, {
      calls,
      maxDistinct,
      learner: { minNovel, estimatedDistinct, acrossMethods, keptShare, sharedWords },
      seed,
      every,
      catalogued,
      traffic,
      serverPaths,
    });
    const s = ((performance.now() - t0) / 1000).toFixed(1);
    console.log(
      `| ${calls} | ${maxDistinct ? `on (${maxDistinct})` : 'off'} | ${maxDistinct ? minNovel || 'off' : '–'} | ${maxDistinct ? estimatedDistinct || 'off' : '–'} | ${catalogued} | ${res.endpoints} | ${pct(res.right, res.endpoints)} | ${pct(res.split, res.endpoints)} | ${pct(res.merged, res.endpoints)} | ${pct(res.reshaped, res.endpoints)} | ${three(res.catalogued)} | ${three(res.shadow)} | ${s} s`,
    );
    // the examples printed are those of the first setting of the last volume
    if (settings.find((x) => x.calls === calls) === setting) last = res;
  }
  if (last) {
    for (const [what, list] of Object.entries(last.examples)) {
      console.log(
        `\n${what}, examples (route_max_distinct ${learners[0]}, ${volumes[volumes.length - 1]} calls per endpoint):`,
      );
      for (const e of list) console.log(`  ${e}`);
    }
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) main(process.argv.slice(2));
