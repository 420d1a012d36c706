// A private PostgreSQL server for the image boot check and the production rehearsal.
//
// Mirrors Aurora PostgreSQL as app-config.production.yaml reaches it: TCP on 127.0.0.1 with TLS, the
// server certificate signed by a CA of its own that the backend must verify (POSTGRES_CA_BUNDLE, with
// `rejectUnauthorized: true`), and a role that may create databases (Backstage makes one per plugin).
// Authentication is `trust`: the password the backend sends is ignored.
//
// Everything lives in one temp folder (data, unix socket, log, certificates) and the server listens on a
// free port, so it can be restarted, stopped for an outage and destroyed freely. It never touches the
// shared server on 5432. initdb refuses to run as root: when we are root, the server's commands run as the
// `postgres` user and the folder belongs to it.
//
//   const pg = await startPrivatePostgres();
//   pg.connectionString; pg.backendEnv();   // POSTGRES_* as the k8s Secret/ConfigMap give them
//   await pg.restart(); await pg.stop(); await pg.start(); await pg.destroy();
import { execFile as execFileCallback, execFileSync } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const execFile = promisify(execFileCallback);
const SHARED_PORT = 5432;

/** The newest installed PostgreSQL's bin folder (Debian: /usr/lib/postgresql/<major>/bin). */
export function postgresBinDir() {
  const base = '/usr/lib/postgresql';
  const versions = existsSync(base)
    ? readdirSync(base)
        .filter(v => /^\d+$/.test(v) && existsSync(join(base, v, 'bin/initdb')))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  if (versions.length === 0) {
    throw new Error(`No PostgreSQL server binaries in ${base}/*/bin`);
  }
  return join(base, versions[0], 'bin');
}

export function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

const runningAsRoot = () => process.getuid?.() === 0;

/** The command line that runs `args` as the cluster's owner: ourselves, or `postgres` when we are root. */
function asOwner(args) {
  return runningAsRoot()
    ? ['runuser', ['-u', 'postgres', '--', ...args]]
    : [args[0], args.slice(1)];
}

async function runAsOwner(args) {
  const [command, rest] = asOwner(args);
  try {
    return await execFile(command, rest, { encoding: 'utf8' });
  } catch (error) {
    throw new Error(
      `${args.join(' ')} failed: ${
        error.stderr || error.stdout || error.message
      }`,
    );
  }
}

/** A CA and a server certificate for 127.0.0.1, as an RDS CA bundle and Aurora's certificate. */
function writeCertificates(dir) {
  const openssl = (...args) => execFileSync('openssl', args, { stdio: 'pipe' });
  const ec = [
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
  ];
  const path = name => join(dir, name);
  openssl(
    'req',
    '-x509',
    ...ec,
    '-keyout',
    path('ca.key'),
    '-out',
    path('ca.crt'),
    '-days',
    '2',
    '-subj',
    '/CN=Lab Scheduler private PostgreSQL CA',
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
  );
  openssl(
    'req',
    ...ec,
    '-keyout',
    path('server.key'),
    '-out',
    path('server.csr'),
    '-subj',
    '/CN=127.0.0.1',
  );
  writeFileSync(
    path('server.ext'),
    'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n',
  );
  openssl(
    'x509',
    '-req',
    '-in',
    path('server.csr'),
    '-CA',
    path('ca.crt'),
    '-CAkey',
    path('ca.key'),
    '-CAcreateserial',
    '-days',
    '2',
    '-extfile',
    path('server.ext'),
    '-out',
    path('server.crt'),
  );
  // PostgreSQL refuses a private key that others can read.
  chmodSync(path('server.key'), 0o600);
  return readFileSync(path('ca.crt'), 'utf8');
}

function postgresUserIds() {
  const id = flag =>
    Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' }).trim());
  return { uid: id('-u'), gid: id('-g') };
}

/**
 * Starts a private PostgreSQL server in `dir` (a new temp folder by default).
 * @param {{ dir?: string, maxConnections?: number }} [options]
 */
export async function startPrivatePostgres({ dir, maxConnections = 300 } = {}) {
  const bin = postgresBinDir();
  const home = dir ?? mkdtempSync(join(tmpdir(), 'lab-scheduler-pg-'));
  mkdirSync(home, { recursive: true });
  const data = join(home, 'data');
  const log = join(home, 'postgres.log');
  const ca = writeCertificates(home);
  if (runningAsRoot()) {
    const { uid, gid } = postgresUserIds();
    execFileSync('chown', ['-R', `${uid}:${gid}`, home]);
  }
  await runAsOwner([
    join(bin, 'initdb'),
    '-D',
    data,
    '-U',
    'postgres',
    '-A',
    'trust',
    '-E',
    'UTF8',
    '--no-sync',
  ]);

  let port;
  const serverOptions = () =>
    [
      `-p ${port}`,
      `-k ${home}`,
      '-c listen_addresses=127.0.0.1',
      `-c max_connections=${maxConnections}`,
      '-c ssl=on',
      `-c ssl_cert_file=${join(home, 'server.crt')}`,
      `-c ssl_key_file=${join(home, 'server.key')}`,
    ].join(' ');
  const pgCtl = (...args) =>
    runAsOwner([
      join(bin, 'pg_ctl'),
      '-D',
      data,
      '-l',
      log,
      '-w',
      '-t',
      '60',
      ...args,
    ]);
  let running = false;
  const start = async () => {
    await pgCtl('-o', serverOptions(), 'start');
    running = true;
  };
  const stop = async (mode = 'fast') => {
    await pgCtl('-m', mode, 'stop');
    running = false;
  };

  // Another process may take the free port before the server binds it: try a few.
  for (let attempt = 1; ; attempt++) {
    port = await freePort();
    if (port === SHARED_PORT) continue;
    try {
      await start();
      break;
    } catch (error) {
      if (attempt >= 3) throw new Error(`${error.message}\n${readLog(log)}`);
    }
  }

  // If our process ends without destroy() (a crash, an uncaught error), the server must not outlive it.
  const onExit = () => {
    if (!running) return;
    const [command, rest] = asOwner([
      join(bin, 'pg_ctl'),
      '-D',
      data,
      '-m',
      'immediate',
      'stop',
    ]);
    try {
      execFileSync(command, rest, { stdio: 'ignore' });
    } catch {
      // already gone
    }
  };
  process.once('exit', onExit);

  return {
    host: '127.0.0.1',
    port,
    user: 'postgres',
    dir: home,
    /** PEM of the CA that signed the server certificate (POSTGRES_CA_BUNDLE). */
    ca,
    connectionString: `postgresql://postgres@127.0.0.1:${port}`,
    /** The POSTGRES_* variables app-config.production.yaml reads. */
    backendEnv() {
      return {
        POSTGRES_HOST: '127.0.0.1',
        POSTGRES_PORT: String(port),
        POSTGRES_USER: 'postgres',
        // trust authentication: any password is accepted, but the config expects one.
        POSTGRES_PASSWORD: 'unused-with-trust-auth',
        POSTGRES_CA_BUNDLE: ca,
      };
    },
    /** A real server restart: every connection is closed, the server process is new. */
    async restart() {
      await pgCtl('-m', 'fast', '-o', serverOptions(), 'restart');
      running = true;
    },
    async stop() {
      await stop('fast');
    },
    start,
    log: () => readLog(log),
    async destroy() {
      process.removeListener('exit', onExit);
      if (running) {
        // fast: a clean shutdown also removes the server's shared memory segments.
        await stop('fast').catch(() => stop('immediate').catch(() => {}));
      }
      rmSync(home, { recursive: true, force: true });
    },
  };
}

function readLog(path) {
  try {
    return readFileSync(path, 'utf8').split('\n').slice(-30).join('\n');
  } catch {
    return '';
  }
}
