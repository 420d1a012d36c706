// Packs every publishable package (the workspaces without `private: true`) the way `npm publish` would,
// checks each tarball, and runs `npm publish --dry-run` on it. Tarballs land in e2e-artifacts/packages/.
//
//   npm run pack:packages            (after `npm run tsc`: the builds roll up their .d.ts from dist-types)
//
// Each package is built in place (`backstage-cli package build`), then copied to a scratch folder where
// `backstage-cli package prepack` rewrites its package.json for publishing; the working tree's
// package.json files are never rewritten, so this can run while the tree is being edited.
//
// A tarball fails the check when: an entry point (main, module, types, exports) names a file it lacks;
// it ships source code or tests; it has no README.md; a dependency is a `workspace:` or file/link reference; or
// a local dependency is not published itself.
import { spawnSync } from 'node:child_process';
import {
  cpSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const cli = join(
  dirname(
    createRequire(join(root, 'package.json')).resolve(
      '@backstage/cli/package.json',
    ),
  ),
  'bin/backstage-cli',
);
const npmCli = process.env.npm_execpath; // the npm that started us (on Node 22 through the node package)
const outDir = join(root, 'e2e-artifacts/packages');
const workDir = join(root, 'e2e-artifacts/pack-work');

function run(cwd, command, args) {
  const started = Date.now();
  const result = spawnSync(command, args, {
    cwd,
    encoding: 'utf8',
    env: process.env,
  });
  if (result.status !== 0) {
    process.stdout.write(result.stdout ?? '');
    process.stderr.write(result.stderr ?? '');
    throw new Error(
      `pack-packages: ${relative(root, cwd) || '.'}: ${args.join(' ')} failed`,
    );
  }
  return { stdout: result.stdout, ms: Date.now() - started };
}

const npm = (cwd, args) =>
  npmCli
    ? run(cwd, process.execPath, [npmCli, ...args])
    : run(cwd, 'npm', args);

/** The workspaces of the root package.json, as folders. */
function workspaces() {
  const { workspaces: patterns } = JSON.parse(
    readFileSync(join(root, 'package.json'), 'utf8'),
  );
  return patterns.flatMap(pattern => {
    if (!pattern.endsWith('/*')) return [join(root, pattern)];
    const parent = join(root, pattern.slice(0, -2));
    return readdirSync(parent, { withFileTypes: true })
      .filter(e => e.isDirectory())
      .map(e => join(parent, e.name));
  });
}

const readJson = path => JSON.parse(readFileSync(path, 'utf8'));

/** Every file path an entry point field names, relative to the package. */
function entryFiles(pkg) {
  const files = [pkg.main, pkg.module, pkg.types].filter(Boolean);
  // Conditions name files, except `backstage` (the entry point's feature type, e.g. @backstage/FrontendPlugin).
  const walk = value => {
    if (typeof value === 'string') files.push(value);
    else if (value && typeof value === 'object')
      Object.entries(value)
        .filter(([condition]) => condition !== 'backstage')
        .forEach(([, target]) => walk(target));
  };
  walk(pkg.exports);
  for (const paths of Object.values(pkg.typesVersions?.['*'] ?? {}))
    files.push(...paths);
  return [...new Set(files.map(f => f.replace(/^\.\//, '')))];
}

function checkTarball(name, tarball, published) {
  const scratch = mkdtempSync(join(tmpdir(), 'pack-check-'));
  try {
    run(scratch, 'tar', ['-xzf', tarball]);
    const dir = join(scratch, 'package');
    const listed = run(dir, 'find', ['.', '-type', 'f'])
      .stdout.split('\n')
      .filter(Boolean)
      .map(f => f.replace(/^\.\//, ''));
    const pkg = readJson(join(dir, 'package.json'));
    const problems = [];
    for (const file of entryFiles(pkg)) {
      if (!listed.includes(file))
        problems.push(`entry point ${file} is not in the tarball`);
    }
    if (!listed.includes('README.md')) problems.push('no README.md');
    const shipped = listed.filter(
      f =>
        (f.startsWith('src/') && /\.[jt]sx?$/.test(f)) ||
        /\.test\.[jt]sx?$/.test(f),
    );
    if (shipped.length > 0)
      problems.push(
        `ships sources or tests: ${shipped.slice(0, 5).join(', ')}`,
      );
    for (const field of ['dependencies', 'peerDependencies']) {
      for (const [dep, range] of Object.entries(pkg[field] ?? {})) {
        if (/^(workspace|file|link):/.test(range))
          problems.push(`${field}.${dep} is ${range}`);
        if (dep.startsWith('@lab-scheduler/') && !published.has(dep))
          problems.push(`${field}.${dep} is not a published package`);
      }
    }
    if (pkg.private) problems.push('private: true');
    if (problems.length > 0) {
      throw new Error(
        `pack-packages: ${name}: ${problems.join('; ')} (${tarball})`,
      );
    }
    return listed.length;
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

function main() {
  const started = Date.now();
  const packages = workspaces()
    .map(dir => ({ dir, pkg: readJson(join(dir, 'package.json')) }))
    .filter(({ pkg }) => !pkg.private);
  const published = new Set(packages.map(({ pkg }) => pkg.name));
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });

  for (const { dir, pkg } of packages) {
    const build = run(dir, process.execPath, [cli, 'package', 'build']);
    // A scratch copy for the publish-time rewrite of package.json (dist → entry points, config schema).
    // Inside the repository: the CLI finds the repository root (its tsconfig.json) from there.
    mkdirSync(workDir, { recursive: true });
    const scratch = mkdtempSync(join(workDir, 'pack-'));
    const copy = join(scratch, 'package');
    cpSync(dir, copy, {
      recursive: true,
      filter: source => !source.includes(`${dir}/node_modules`),
    });
    try {
      run(copy, process.execPath, [cli, 'package', 'prepack']);
      const packed = npm(copy, [
        'pack',
        '--ignore-scripts',
        '--json',
        '--pack-destination',
        outDir,
      ]);
      const [{ filename }] = JSON.parse(packed.stdout);
      const tarball = join(outDir, filename);
      const files = checkTarball(pkg.name, tarball, published);
      const dryRun = npm(copy, [
        'publish',
        '--dry-run',
        '--ignore-scripts',
        '--access',
        'public',
      ]);
      console.log(
        `pack-packages: ${pkg.name}: ${files} files, ${relative(
          root,
          tarball,
        )} (build ${build.ms} ms, publish --dry-run ${dryRun.ms} ms)`,
      );
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
  }
  console.log(
    `pack-packages: ${packages.length} packages in ${Math.round(
      (Date.now() - started) / 1000,
    )} s`,
  );
}

main();
