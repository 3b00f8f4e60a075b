import { existsSync } from 'node:fs';
import { posix } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLI_ENTRYPOINT } from './compose-checks.js';
import { readRepoFile, repoPath } from './deploy-helpers.js';
import { copies, destinationOf, execForm, lastOf, parseDockerfile, stage } from './dockerfile.js';

/**
 * deploy/docker/Dockerfile and .dockerignore, checked without Docker: the build runs the project's own scripts,
 * the runtime stage has everything the CLI reads at run time, and the build context holds what the build needs.
 */

const DOCKERFILE = readRepoFile('deploy/docker/Dockerfile');
const DOCKERIGNORE = readRepoFile('.dockerignore');

/** .dockerignore patterns (the simple forms used here: paths, folders, `*.ext`) */
function ignored(patterns: string, path: string): boolean {
  return patterns
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'))
    .some((p) => {
      if (p.startsWith('*.')) return path.endsWith(p.slice(1));
      const clean = p.replace(/^\/|\/$/g, '');
      return path === clean || path.startsWith(`${clean}/`);
    });
}

/** what `npm run build` (tsc -p tsconfig.build.json) and `npm run build:wasm` produce, by repository path */
function builtByTheBuild(path: string): boolean {
  if (path === 'node_modules' || path.startsWith('node_modules/')) return true;
  const tsconfig = JSON.parse(readRepoFile('tsconfig.json')) as {
    compilerOptions: { outDir: string; rootDir: string };
  };
  const out = tsconfig.compilerOptions.outDir.replace(/^\.\//, '');
  if (path === out) return true;
  if (path.startsWith(`${out}/`)) return existsSync(repoPath(path.slice(out.length + 1).replace(/\.js$/, '.ts')));
  const wasmTargets = [...readRepoFile('sensors/envoy-wasm/build.mjs').matchAll(/out: '([^']+)'/g)].map(
    (m) => `sensors/envoy-wasm/${m[1]}`,
  );
  return wasmTargets.includes(path);
}

function dockerfileProblems(text: string, dockerignore: string): string[] {
  const problems: string[] = [];
  const df = parseDockerfile(text);
  const pkg = JSON.parse(readRepoFile('package.json')) as {
    scripts: Record<string, string>;
    bin?: Record<string, string>;
  };
  const build = stage(df, 'build');
  const runs = build.instructions.filter((i) => i.op === 'RUN').map((i) => i.args);
  if (!runs.some((r) => /\bnpm ci\b/.test(r))) problems.push('build: does not install with npm ci');
  for (const script of ['build', 'build:wasm']) {
    if (!pkg.scripts[script]) problems.push(`package.json has no "${script}" script`);
    if (!runs.some((r) => new RegExp(`npm run ${script}(\\s|$)`).test(r)))
      problems.push(`build: does not run npm run ${script}`);
  }

  // the runtime stage is the default target and runs the CLI the build produced
  const runtime = df.stages.at(-1);
  if (runtime?.name !== 'runtime') problems.push('the last stage (the default target) is not runtime');
  if (!runtime) return problems;
  const entrypoint = execForm(lastOf(runtime, 'ENTRYPOINT') ?? '');
  if (entrypoint?.join(' ') !== CLI_ENTRYPOINT.join(' '))
    problems.push(`runtime: ENTRYPOINT is not ${JSON.stringify(CLI_ENTRYPOINT)}`);
  if (!builtByTheBuild(CLI_ENTRYPOINT[1]))
    problems.push(`runtime: ${CLI_ENTRYPOINT[1]} is not what the build produces`);
  if (pkg.bin?.meshward !== CLI_ENTRYPOINT[1]) problems.push(`package.json bin is not ${CLI_ENTRYPOINT[1]}`);
  const user = lastOf(runtime, 'USER');
  if (!user || user === 'root' || user === '0') problems.push('runtime: runs as root');

  // every COPY source exists: from the build stage, produced by the build or in the context; from the context, not ignored
  const files = new Set<string>();
  for (const st of df.stages) {
    for (const c of copies(st)) {
      for (const src of c.sources) {
        if (st === runtime) files.add(destinationOf(st, c, src));
        if (c.from === 'build') {
          const rel = src.replace(/^\/app\//, '');
          if (!builtByTheBuild(rel) && !existsSync(repoPath(rel)))
            problems.push(`${st.name}: copies ${src}, which the build does not have`);
          if (!builtByTheBuild(rel) && ignored(dockerignore, rel))
            problems.push(`${st.name}: copies ${src}, which .dockerignore leaves out`);
        } else if (!c.from) {
          if (!existsSync(repoPath(src))) problems.push(`${st.name}: copies ${src}, which does not exist`);
          if (ignored(dockerignore, src)) problems.push(`${st.name}: copies ${src}, which .dockerignore leaves out`);
        }
      }
    }
  }
  // what the CLI reads at run time: the console's files where consoleRoot() looks for them
  const workdir = lastOf(runtime, 'WORKDIR') ?? '/';
  const consoleDir = posix.join(workdir, 'dist/pipeline/api', '../../../pipeline/api/console/public');
  if (!files.has(consoleDir))
    problems.push(`runtime: the console's files are not at ${consoleDir} (pipeline/api/console-routes.ts)`);
  for (const needed of ['node_modules', 'dist', 'package.json']) {
    if (!files.has(posix.join(workdir, needed))) problems.push(`runtime: ${needed} is not copied`);
  }

  // the Envoy image has the module where deploy/envoy/envoy.yaml loads it; the Istio image is plugin.wasm alone
  const wasmPath = /filename:\s*(\S+\.wasm)/.exec(readRepoFile('deploy/envoy/envoy.yaml'))?.[1];
  const envoy = df.stages.find((s) => s.name === 'envoy');
  if (!envoy?.from.startsWith('envoyproxy/envoy:')) problems.push('no envoy stage on the envoyproxy/envoy image');
  else if (!copies(envoy).some((c) => c.sources.some((s) => destinationOf(envoy, c, s) === wasmPath))) {
    problems.push(`envoy: the sensor is not copied to ${wasmPath} (deploy/envoy/envoy.yaml)`);
  }
  const wasm = df.stages.find((s) => s.name === 'sensor-wasm');
  const holdsPlugin = wasm ? copies(wasm).some((c) => destinationOf(wasm, c, c.sources[0]) === '/plugin.wasm') : false;
  if (wasm?.from !== 'scratch' || !holdsPlugin) {
    problems.push('sensor-wasm: not a scratch image holding /plugin.wasm (Istio WasmPlugin image format)');
  }
  // what the build needs is in the context
  const tsconfig = JSON.parse(readRepoFile('tsconfig.json')) as { include: string[] };
  const needed = [
    'package.json',
    'package-lock.json',
    'tsconfig.json',
    'tsconfig.build.json',
    'sensors/envoy-wasm/asconfig.json',
  ];
  for (const inc of tsconfig.include) needed.push(inc.split('/')[0]);
  for (const p of needed)
    if (ignored(dockerignore, p)) problems.push(`.dockerignore leaves out ${p}, which the build needs`);
  for (const p of ['node_modules', 'dist', '.git', 'deploy/compose/demo-secrets']) {
    if (!ignored(dockerignore, p)) problems.push(`.dockerignore sends ${p} into the build context`);
  }
  return problems;
}

describe('deploy/docker/Dockerfile', () => {
  it('builds with the project scripts and runs the CLI it built', () => {
    expect(dockerfileProblems(DOCKERFILE, DOCKERIGNORE)).toEqual([]);
    const df = parseDockerfile(DOCKERFILE);
    expect(df.stages.map((s) => s.name)).toEqual(['build', 'sensor-wasm', 'envoy', 'runtime']);
    expect(stage(df, 'build').from).toMatch(/^node:20/);
  });

  it('catches a build without the Wasm step, a wrong entrypoint, a missing file and an ignored source', () => {
    const mutated = DOCKERFILE.replace('npm run build && npm run build:wasm', 'npm run build')
      .replace('ENTRYPOINT ["node", "dist/pipeline/cli/main.js"]', 'ENTRYPOINT ["node", "dist/cli.js"]')
      .replace('COPY deploy/docker/live-traffic.mjs', 'COPY deploy/docker/traffic.mjs')
      .replace(
        '/app/pipeline/api/console/public ./pipeline/api/console/public',
        '/app/pipeline/api/console/public ./public',
      );
    const problems = dockerfileProblems(mutated, `${DOCKERIGNORE}\npipeline\n`).join('\n');
    expect(problems).toMatch(/does not run npm run build:wasm/);
    expect(problems).toMatch(/ENTRYPOINT is not/);
    expect(problems).toMatch(/copies deploy\/docker\/traffic\.mjs, which does not exist/);
    expect(problems).toMatch(/the console's files are not at \/app\/pipeline\/api\/console\/public/);
    expect(problems).toMatch(/\.dockerignore leaves out pipeline/);
  });
});
