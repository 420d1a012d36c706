// Builds packages/backend/dist/{skeleton,bundle}.tar.gz for the Docker image (see packages/backend/Dockerfile).
// `backstage-cli package build` for a backend copies the root yarn.lock into the skeleton; this npm repo has
// none, so an empty placeholder stands in for the duration of the build. The app is built first (the
// backend bundle carries it, served by plugin-app-backend).
import { execFileSync } from 'node:child_process';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const cli = join(root, 'node_modules/@backstage/cli/bin/backstage-cli');
const run = (cwd, args, env = {}) =>
  execFileSync(process.execPath, [cli, ...args], {
    cwd,
    stdio: 'inherit',
    env: { ...process.env, ...env },
  });

run(join(root, 'packages/app'), ['package', 'build'], {
  NODE_ENV: 'production',
});
const placeholder = join(root, 'yarn.lock');
const created = !existsSync(placeholder);
if (created) writeFileSync(placeholder, '');
try {
  run(join(root, 'packages/backend'), [
    'package',
    'build',
    '--skip-build-dependencies',
  ]);
} finally {
  if (created) rmSync(placeholder);
}
