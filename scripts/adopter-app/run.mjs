// Docs that compile (issue 15): what an engineer at another organisation does with the READMEs, run in CI.
//
//   npm run test:adopter-app      (after `npm run pack:packages`, which leaves the tarballs in e2e-artifacts/packages/)
//
// 1. A minimal Backstage app as create-app makes it (scripts/adopter-app/template: backend with auth, catalog
//    and permissions; a new-frontend-system app) is copied into a temporary folder, outside the monorepo,
//    with create-app's legacy-frontend-system app beside it (scripts/adopter-app/template-legacy, copied to
//    legacy/: App.tsx with createApp from @backstage/app-defaults and FlatRoutes, Root.tsx with the sidebar,
//    EntityPage.tsx with the entityPage switch), a third workspace of the same install.
// 2. The five plugin packages are installed from their packed tarballs (no workspace links, no source), with
//    the other packages the READMEs tell an adopter to add; npm resolves the rest from the registry.
// 3. Every README snippet that names its file (a first line `// packages/…`) goes into that file, in the
//    legacy app when the block is under a heading naming the "legacy frontend system": a whole file, or
//    added to a template file with `README:` markers by the convention of snippets.mjs (its imports join
//    the file's imports; lines under a `// inside <FlatRoutes>:` line go to the marker
//    `README: inside <FlatRoutes>`, others to `// README: <file>`); "instead of the allow-all policy
//    module" removes that module. Every YAML snippet of configuration is merged into app-config, every
//    entity snippet goes into the catalog.
// 4. Both apps and the backend are type-checked (one tsc), the backend is started with Node's TypeScript
//    loader as `backstage-cli package start` would (the frontends are not started), and the README's token
//    creates a task through the API, which the embedded dispatcher runs (simulated measurement) and the run
//    ends `succeeded`; "run now" runs it again.
// 5. The backend stops on SIGTERM; the time it took is reported.
// 6. A ts/tsx block of the READMEs that names no file fails the test (checked last, after everything else
//    ran): every TypeScript snippet a reader may copy is compiled.
//
// Prints one JSON line per step; exit code 1 on any failure. ADOPTER_KEEP=1 keeps the folder.
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { addSnippet, codeBlocks, hasMarkers } from './snippets.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '../..');
const require = createRequire(join(root, 'package.json'));
const YAML = require('yaml');
const npmCli = process.env.npm_execpath;
const started = Date.now();

function log(step, fields = {}) {
  console.log(
    JSON.stringify({
      step,
      seconds: Math.round((Date.now() - started) / 100) / 10,
      ...fields,
    }),
  );
}

function fail(message, fields = {}) {
  log('failed', { message, ...fields });
  process.exitCode = 1;
  throw new Error(message);
}

function run(cwd, command, args, options = {}) {
  const result = spawnSync(command, args, {
    cwd,
    encoding: 'utf8',
    // This Node first on the PATH: npm runs install scripts with `node` from the PATH, and native addons
    // (better-sqlite3) must be built for the Node that runs the backend, not the machine's older one.
    env: {
      ...process.env,
      PATH: `${dirname(process.execPath)}:${process.env.PATH}`,
      CI: 'true',
      ...options.env,
    },
    maxBuffer: 64 * 1024 * 1024,
  });
  if (result.status !== 0) {
    const output = `${result.stdout}\n${result.stderr}`;
    // npm's own errors first: its warnings can fill any tail.
    const errors = output.split('\n').filter(l => /^npm error/.test(l));
    fail(`${command} ${args.join(' ')} failed in ${cwd}`, {
      status: result.status,
      errors: errors.slice(0, 40),
      output: output.slice(-4000),
    });
  }
  return result.stdout;
}

/** Deep merge of configuration: objects key by key, arrays appended (two READMEs' instrument lists). */
function merge(target, source) {
  for (const [key, value] of Object.entries(source)) {
    if (Array.isArray(value) && Array.isArray(target[key]))
      target[key] = [...target[key], ...value];
    else if (
      value &&
      typeof value === 'object' &&
      !Array.isArray(value) &&
      target[key] &&
      typeof target[key] === 'object'
    )
      merge(target[key], value);
    else target[key] = value;
  }
  return target;
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

const sleep = ms => new Promise(r => setTimeout(r, ms));

const READMES = [
  'plugins/lab-scheduler-backend/README.md',
  'plugins/lab-scheduler/README.md',
  'plugins/lab-scheduler-node/README.md',
  'plugins/lab-scheduler-common/README.md',
  'plugins/lab-scheduler-backend-module-http-gateway/README.md',
].map(f => join(root, f));

/** Which package of the app a README's install command (`npm install --workspace backend …`) targets. */
const PACKAGE_OF_README = {
  'plugins/lab-scheduler-backend/README.md': 'backend',
  'plugins/lab-scheduler/README.md': 'app',
  'plugins/lab-scheduler-node/README.md': 'backend',
  'plugins/lab-scheduler-common/README.md': 'backend',
  'plugins/lab-scheduler-backend-module-http-gateway/README.md': 'backend',
};

/**
 * Where a README block's files live in the temporary folder: blocks under a heading that names the legacy
 * frontend system go to the legacy app (template-legacy, copied to legacy/), the others to the template.
 */
const baseOf = block =>
  /legacy frontend system/i.test(block.section) ? 'legacy' : '';

async function main() {
  const tarballDir = join(root, 'e2e-artifacts/packages');
  const tarballs = existsSync(tarballDir)
    ? readdirSync(tarballDir).filter(f => f.endsWith('.tgz'))
    : [];
  if (tarballs.length < 5)
    fail(
      `expected the five packed plugins in ${tarballDir}: run npm run pack:packages first`,
    );
  const app = mkdtempSync(join(tmpdir(), 'adopter-app-'));
  cpSync(join(root, 'scripts/adopter-app/template'), app, { recursive: true });
  // The legacy-frontend-system app beside it: another workspace of the same install, type-checked with it.
  cpSync(
    join(root, 'scripts/adopter-app/template-legacy'),
    join(app, 'legacy'),
    { recursive: true },
  );
  const workspaceFile = join(app, 'package.json');
  const workspaceJson = JSON.parse(readFileSync(workspaceFile, 'utf8'));
  workspaceJson.workspaces.push('legacy/packages/*');
  writeFileSync(workspaceFile, `${JSON.stringify(workspaceJson, null, 2)}\n`);
  const tsconfigFile = join(app, 'tsconfig.json');
  const tsconfig = JSON.parse(readFileSync(tsconfigFile, 'utf8'));
  tsconfig.include.push('legacy/packages/*/src');
  writeFileSync(tsconfigFile, `${JSON.stringify(tsconfig, null, 2)}\n`);
  mkdirSync(join(app, 'tarballs'));
  for (const t of tarballs)
    cpSync(join(tarballDir, t), join(app, 'tarballs', t));
  log('app', { folder: app, tarballs });

  // 2. Dependencies: each README's install command, from the tarball of the package it names.
  const tarballOf = name => {
    const base = name.replace(/^@/, '').replace('/', '-');
    const t = tarballs.find(
      f =>
        f.startsWith(base) &&
        /^-\d+\.\d+\.\d+[^/]*\.tgz$/.test(f.slice(base.length)),
    );
    if (!t) fail(`no tarball for ${name}`);
    // Absolute: npm reads an override's path relative to each package it applies in.
    return `file:${join(app, 'tarballs', t)}`;
  };
  // By the package's folder: packages/backend, packages/app, legacy/packages/app.
  const additions = {
    'packages/backend': {},
    'packages/app': {},
    'legacy/packages/app': {},
  };
  for (const readme of READMES) {
    const relative = readme.slice(root.length + 1);
    for (const block of codeBlocks(readme)) {
      if (block.lang !== 'sh') continue;
      for (const line of block.body) {
        const m = line.match(
          /^npm install (?:--workspace (\w+) )?(@lab-scheduler\/[\w-]+)\s*$/,
        );
        if (!m) continue;
        const pkg = join(
          baseOf(block),
          'packages',
          m[1] ?? PACKAGE_OF_README[relative],
        );
        if (!additions[pkg]) fail(`${relative}: no package ${pkg} in the app`);
        additions[pkg][m[2]] = tarballOf(m[2]);
      }
    }
  }
  // "It needs @backstage/plugin-permission-common, @backstage/plugin-permission-node and
  // @lab-scheduler/plugin-lab-scheduler-common in the backend's dependencies" (the policy module's section).
  const policySentence = readFileSync(READMES[0], 'utf8').match(
    /It needs ((?:`[^`]+`[,\s]*(?:and\s+)?)+)in the\s+backend's\s+dependencies/,
  );
  if (!policySentence)
    fail('the backend README no longer says what the policy module needs');
  const rootLock = JSON.parse(
    readFileSync(join(root, 'package-lock.json'), 'utf8'),
  );
  for (const [, name] of policySentence[1].matchAll(/`([^`]+)`/g)) {
    if (name.startsWith('@lab-scheduler/'))
      additions['packages/backend'][name] = tarballOf(name);
    else
      additions['packages/backend'][name] =
        rootLock.packages[`node_modules/${name}`].version;
  }
  for (const pkg of Object.keys(additions)) {
    const file = join(app, pkg, 'package.json');
    const json = JSON.parse(readFileSync(file, 'utf8'));
    Object.assign(json.dependencies, additions[pkg]);
    writeFileSync(file, `${JSON.stringify(json, null, 2)}\n`);
  }
  // Before a release is on the registry, the plugins' dependencies on each other (the frontend plugin's on
  // -common, say) must resolve to the tarballs too: the backend README's install section says so.
  const rootFile = join(app, 'package.json');
  const rootJson = JSON.parse(readFileSync(rootFile, 'utf8'));
  rootJson.overrides = {
    ...rootJson.overrides,
    ...Object.fromEntries(
      Object.values(additions)
        .flatMap(Object.entries)
        .filter(([name]) => name.startsWith('@lab-scheduler/')),
    ),
  };
  writeFileSync(rootFile, `${JSON.stringify(rootJson, null, 2)}\n`);
  log('dependencies', { ...additions, overrides: rootJson.overrides });

  // 3. Snippets into files and configuration.
  const compiled = [];
  const notCompiled = [];
  const config = YAML.parse(readFileSync(join(app, 'app-config.yaml'), 'utf8'));
  const entities = [];
  for (const readme of READMES) {
    const relative = readme.slice(root.length + 1);
    for (const block of codeBlocks(readme)) {
      const where = `${relative}:${block.line}`;
      if (block.lang === 'yaml') {
        const doc = YAML.parse(block.body.join('\n'));
        if (doc?.apiVersion) entities.push(doc);
        else merge(config, doc);
        compiled.push({
          where,
          as: doc?.apiVersion ? 'catalog entity' : 'app-config',
        });
        continue;
      }
      if (block.lang !== 'ts' && block.lang !== 'tsx') continue;
      const head = block.body[0].match(/^\/\/ (packages\/\S+?\.tsx?)(,.*)?$/);
      if (!head) {
        notCompiled.push({ where, first: block.body[0] });
        continue;
      }
      const [, path, remark = ''] = head;
      const as = join(baseOf(block), path);
      const target = join(app, as);
      const content = block.body.slice(1).join('\n');
      // Added to a template file with `README:` markers (snippets.mjs: imports to the imports, the rest
      // at the marker of its place), or a whole file.
      if (existsSync(target) && hasMarkers(readFileSync(target, 'utf8'))) {
        let text = readFileSync(target, 'utf8');
        if (/instead of the allow-all policy module/.test(remark))
          text = text.replace(
            /backend\.add\(\s*import\('@backstage\/plugin-permission-backend-module-allow-all-policy'\),?\s*\);\n/,
            '',
          );
        try {
          writeFileSync(target, addSnippet(text, path, content));
        } catch (error) {
          fail(`${where}: ${error.message}`);
        }
      } else {
        mkdirSync(dirname(target), { recursive: true });
        writeFileSync(target, `${block.body.join('\n')}\n`);
      }
      compiled.push({ where, as, lines: block.body.length - 1, content });
    }
  }
  writeFileSync(
    join(app, 'catalog.yaml'),
    entities.map(e => YAML.stringify(e)).join('---\n'),
  );
  writeFileSync(join(app, 'app-config.readme.yaml'), YAML.stringify(config));
  log('snippets', {
    compiled: compiled.map(({ content, ...c }) => c),
    notCompiled,
  });

  // 4. Install, type-check, start.
  const installStarted = Date.now();
  run(app, process.execPath, [
    npmCli,
    'install',
    '--no-audit',
    '--no-fund',
    '--prefer-offline',
  ]);
  log('installed', {
    seconds_install: Math.round((Date.now() - installStarted) / 1000),
  });
  const linked = spawnSync(
    'find',
    [join(app, 'node_modules/@lab-scheduler'), '-maxdepth', '1', '-type', 'l'],
    {
      encoding: 'utf8',
    },
  ).stdout.trim();
  if (linked)
    fail('a lab scheduler package is a link, not its tarball', { linked });
  run(app, process.execPath, [
    join(app, 'node_modules/typescript/bin/tsc'),
    '-p',
    'tsconfig.json',
  ]);
  log('type-checked', {
    files: compiled
      .filter(c => /^(legacy\/)?packages\//.test(c.as))
      .map(c => c.as),
  });

  const port = await freePort();
  const token = randomBytes(24).toString('base64');
  const env = {
    ...process.env,
    ADOPTER_BACKEND_PORT: String(port),
    LAB_SCHEDULER_SCRIPTS_TOKEN: token,
    // The README's gateway and entity examples reference these; nothing here calls them.
    PLATE_READER_GATEWAY_TOKEN: 'unused',
    NODE_ENV: 'development',
  };
  // The README's entity, and a second one no driver names (measured by the simulation the README allows).
  const simulated = structuredClone(entities.find(e => e.kind === 'Resource'));
  simulated.metadata.name = 'bench-reader-9';
  delete simulated.metadata.annotations['lab-scheduler.io/measurement-types'];
  const owner = simulated.spec.owner;
  writeFileSync(
    join(app, 'catalog.yaml'),
    [
      ...entities,
      simulated,
      {
        apiVersion: 'backstage.io/v1alpha1',
        kind: 'Group',
        metadata: { name: owner.split('/')[1] },
        spec: { type: 'team', children: [] },
      },
    ]
      .map(e => YAML.stringify(e))
      .join('---\n'),
  );
  const withCatalog = YAML.parse(
    readFileSync(join(app, 'app-config.readme.yaml'), 'utf8'),
  );
  withCatalog.catalog.locations = [
    { type: 'file', target: join(app, 'catalog.yaml') },
  ];
  writeFileSync(
    join(app, 'app-config.readme.yaml'),
    YAML.stringify(withCatalog),
  );

  const backendDir = join(app, 'packages/backend');
  const backend = spawn(
    process.execPath,
    [
      '--require',
      join(app, 'node_modules/@backstage/cli/config/nodeTransform.cjs'),
      'src/index.ts',
      '--config',
      join(app, 'app-config.yaml'),
      '--config',
      join(app, 'app-config.readme.yaml'),
    ],
    { cwd: backendDir, env, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  backend.stdout.on('data', d => (output += d));
  backend.stderr.on('data', d => (output += d));
  const exited = new Promise(resolve =>
    backend.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const api = `http://127.0.0.1:${port}/api/lab-scheduler`;
  const call = async (method, path, body) => {
    const res = await fetch(`${api}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        'content-type': 'application/json',
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined };
  };
  try {
    const bootStarted = Date.now();
    for (;;) {
      if (Date.now() - bootStarted > 180_000)
        fail('the backend did not start', { output: output.slice(-4000) });
      if (/Backend startup failed/.test(output))
        fail('the backend failed to start', { output: output.slice(-4000) });
      if (backend.exitCode !== null)
        fail('the backend exited', { output: output.slice(-4000) });
      try {
        if ((await fetch(`${api}/health`)).ok) break;
      } catch {
        // not listening yet
      }
      await sleep(500);
    }
    log('backend started', {
      port,
      seconds_boot: Math.round((Date.now() - bootStarted) / 1000),
    });

    // The README's curl: a list with the scripts token; then the catalog must hold the instruments.
    const list = await call('GET', '/tasks?limit=20');
    if (list.status !== 200) fail('GET /tasks with the README token', list);
    const instrumentRef = `resource:default/${simulated.metadata.name}`;
    let created;
    for (let attempt = 0; attempt < 60; attempt++) {
      created = await call('POST', '/tasks', {
        name: 'Adopter smoke test',
        instrumentRef,
        owner,
        measurement: { type: 'absorbance-spectrum', parameters: {} },
        schedule: {
          type: 'once',
          at: new Date(Date.now() + 3_000).toISOString(),
        },
      });
      // 400 naming the instrument until the catalog has read catalog.yaml.
      if (created.status === 201) break;
      await sleep(1_000);
    }
    if (created.status !== 201) fail('creating a task', created);
    const taskId = created.body.id;
    const finished = async count => {
      for (let i = 0; i < 120; i++) {
        const runs = await call('GET', `/tasks/${taskId}/runs?limit=10`);
        const done = runs.body.items.filter(r =>
          ['succeeded', 'failed', 'dead_lettered'].includes(r.status),
        );
        if (done.length >= count) return done;
        await sleep(500);
      }
      return fail('the run did not finish', { output: output.slice(-4000) });
    };
    const [scheduled] = await finished(1);
    if (scheduled.status !== 'succeeded')
      fail('the scheduled run did not succeed', scheduled);
    const trigger = await call('POST', `/tasks/${taskId}/trigger`);
    if (trigger.status !== 202) fail('run now', trigger);
    const runs = await finished(2);
    if (runs.some(r => r.status !== 'succeeded'))
      fail('a run did not succeed', { runs });
    log('task ran', {
      task: taskId,
      runs: runs.map(r => ({
        status: r.status,
        outcome: r.outcome,
        trigger: r.trigger,
      })),
    });
  } finally {
    const stopAt = Date.now();
    backend.kill('SIGTERM');
    const result = await Promise.race([
      exited,
      sleep(30_000).then(() => 'timeout'),
    ]);
    if (result === 'timeout') {
      backend.kill('SIGKILL');
      process.exitCode = 1;
    }
    log('backend stopped', {
      result,
      seconds_stop: (Date.now() - stopAt) / 1000,
    });
    // The backend's whole log, for a failure's cause (the JSON lines carry only its tail).
    mkdirSync(join(root, 'e2e-artifacts/adopter-app'), { recursive: true });
    writeFileSync(join(root, 'e2e-artifacts/adopter-app/backend.log'), output);
    if (process.env.ADOPTER_KEEP !== '1')
      rmSync(app, { recursive: true, force: true });
  }
  // What an adopter writes for the new frontend system without a policy: the backend's line and App.tsx.
  const adopterLines = compiled
    .filter(
      c =>
        c.as === 'packages/app/src/App.tsx' ||
        (c.as === 'packages/backend/src/index.ts' &&
          c.content.includes('@lab-scheduler/plugin-lab-scheduler-backend')),
    )
    .reduce((n, c) => n + c.lines, 0);
  // The legacy frontend system's: every line of its blocks (imports, routes, the instrument page).
  const legacyLines = compiled
    .filter(c => c.as.startsWith('legacy/'))
    .reduce((n, c) => n + c.lines, 0);
  // Last, so a run reports everything else too: a TypeScript block that names no file fails the test.
  if (notCompiled.length)
    fail(
      'README TypeScript blocks that name no file (first line `// packages/…`) are not compiled',
      { notCompiled },
    );
  log('done', {
    adopter_lines_new_frontend_system_without_policy: adopterLines,
    adopter_lines_legacy_frontend_system: legacyLines,
  });
}

main().catch(error => {
  if (!process.exitCode) {
    log('failed', { message: String(error?.stack ?? error) });
    process.exitCode = 1;
  }
});
