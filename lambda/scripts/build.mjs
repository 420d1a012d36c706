// Bundles the Lambda with esbuild and packs dist/lambda.zip (handler: handler.handler).
// The AWS SDK v3 is provided by the nodejs22.x runtime and left out; nothing from devDependencies goes in.
import { build } from 'esbuild';
import { createWriteStream, mkdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import yazl from 'yazl';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');
mkdirSync(dist, { recursive: true });

const result = await build({
  entryPoints: [join(root, 'src/handler.ts')],
  outfile: join(dist, 'handler.js'),
  bundle: true,
  platform: 'node',
  target: 'node22',
  format: 'cjs',
  minify: true,
  sourcemap: 'external',
  external: ['@aws-sdk/*'],
  metafile: true,
  logLevel: 'warning',
});

const zip = new yazl.ZipFile();
zip.addFile(join(dist, 'handler.js'), 'handler.js', { mtime: new Date(0) });
zip.addFile(join(dist, 'handler.js.map'), 'handler.js.map', {
  mtime: new Date(0),
});
await new Promise((resolve, reject) => {
  zip.outputStream
    .pipe(createWriteStream(join(dist, 'lambda.zip')))
    .on('close', resolve)
    .on('error', reject);
  zip.end();
});
const inputs = Object.keys(result.metafile.inputs).length;
console.log(
  `lambda.zip: ${statSync(join(dist, 'lambda.zip')).size} bytes (handler.js ${
    statSync(join(dist, 'handler.js')).size
  } bytes, ${inputs} modules)`,
);
