// Runs a fauxqs SQS server in its own process (so tests can stop and restart it like a real outage).
// Usage: node fauxqsServer.mjs <port> [dataDir]
import { startFauxqs } from 'fauxqs';

const port = Number(process.argv[2] ?? 0);
const dataDir = process.argv[3] || undefined;
const server = await startFauxqs({
  port,
  logger: false,
  host: '127.0.0.1',
  dataDir,
});
process.stdout.write(`READY ${server.port}\n`);
const shutdown = async () => {
  await server.stop();
  process.exit(0);
};
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
