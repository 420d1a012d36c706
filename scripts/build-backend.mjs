// Builds packages/backend/dist/{skeleton,bundle}.tar.gz for the Docker image (see packages/backend/Dockerfile).
//
// `backstage-cli package build` of a backend copies each local dependency into the bundle as it would be
// published: publishConfig points `main` at dist/index.cjs.js, so every dependency must have been built.
// The CLI builds them itself unless `--skip-build-dependencies` is given, but it builds the bundled app with
// `yarn run build`, which this npm repo does not have. So this script does what the CLI would, the way
// Backstage's own host build does (`tsc`, then the packages, then the backend with
// `--skip-build-dependencies`):
//   1. `tsc`: the libraries' builds roll up their .d.ts from dist-types (type errors only warn here);
//   2. `backstage-cli package build` in each local dependency of the backend that is not bundled, found
//      through the same package graph the CLI uses, so a new internal package is picked up by itself;
//   3. the app (bundled, served by plugin-app-backend);
//   4. the backend. The CLI copies the root yarn.lock into the dist workspace; an empty placeholder stands
//      in for it during the build (the image installs from package-lock.json).
import { PackageGraph } from '@backstage/cli-node';
import { spawn } from 'node:child_process';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(join(root, 'package.json'));
const cli = join(root, 'node_modules/@backstage/cli/bin/backstage-cli');
const tsc = require.resolve('typescript/bin/tsc');

/** Runs a Node script on this Node (22, as npm started us), failing loudly with the step's name. */
function run(step, cwd, args, env = {}, onExit = code => code === 0) {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, {
      cwd,
      stdio: 'inherit',
      env: { ...process.env, ...env },
    });
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      if (onExit(code)) {
        console.log(
          `build-backend: ${step} done in ${Date.now() - started} ms`,
        );
        resolve();
      } else {
        reject(
          new Error(
            `build-backend: ${step} failed (${signal ?? `exit code ${code}`})`,
          ),
        );
      }
    });
  });
}

/** The backend's local dependencies the way the CLI collects them: bundled packages end the walk. */
async function localDependenciesOf(name) {
  const graph = PackageGraph.fromPackages(
    await PackageGraph.listTargetPackages(),
  );
  const names = graph.collectPackageNames([name], node =>
    node.packageJson.bundled
      ? undefined
      : node.publishedLocalDependencies.keys(),
  );
  return [...names].filter(n => n !== name).map(n => graph.get(n));
}

async function main() {
  const started = Date.now();
  process.chdir(root);
  const backend = join(root, 'packages/backend');
  const dependencies = await localDependenciesOf('backend');
  const libraries = dependencies.filter(p => !p.packageJson.bundled);
  const bundled = dependencies.filter(p => p.packageJson.bundled);

  // Exit code 2: type errors, declarations written all the same. The image's code does not depend on
  // them (rollup compiles without type checks; CI's own tsc step fails on them), so one half-edited test
  // elsewhere in the repo must not stop the image build.
  await run('tsc', root, [tsc], {}, code => {
    if (code === 2) {
      console.warn(
        'build-backend: WARNING: tsc reported type errors (see above); declarations were emitted, building on',
      );
    }
    return code === 0 || code === 2;
  });
  // One at a time: each build already uses the machine's cores, and CI has two.
  for (const pkg of libraries) {
    await run(relative(root, pkg.dir), pkg.dir, [cli, 'package', 'build']);
  }
  for (const pkg of bundled) {
    await run(relative(root, pkg.dir), pkg.dir, [cli, 'package', 'build'], {
      NODE_ENV: 'production',
    });
  }

  const placeholder = join(root, 'yarn.lock');
  const created = !existsSync(placeholder);
  if (created) writeFileSync(placeholder, '');
  try {
    await run('packages/backend', backend, [
      cli,
      'package',
      'build',
      '--skip-build-dependencies',
    ]);
  } finally {
    if (created) rmSync(placeholder);
  }
  console.log(
    `build-backend: packages/backend/dist/{skeleton,bundle}.tar.gz in ${
      Date.now() - started
    } ms`,
  );
}

main().catch(error => {
  console.error(error.message);
  process.exitCode = 1;
});
