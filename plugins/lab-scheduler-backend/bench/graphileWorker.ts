/*
 * graphile-worker in its own process, for the side-by-side benchmark: a no-op task that reports how
 * late each job started (now - run_at) on stdout.
 * Env: DATABASE_URL, CONCURRENCY, POLL_INTERVAL, BATCHING=1 for the local queue + batched completion,
 * LOCAL_QUEUE_SIZE (500): the local queue's size, the jobs one fetch takes.
 */
import { run } from 'graphile-worker';

async function main() {
  const batching = process.env.BATCHING === '1';
  const latenesses: number[] = [];
  // First and last job execution here: the drain is timed from the first job to the last, as the
  // Lab Scheduler drain is timed from its first claim to its last publish.
  let firstAt = 0;
  let lastAt = 0;
  const flush = () => {
    if (latenesses.length)
      process.stdout.write(`LATE ${latenesses.splice(0).join(',')}\n`);
  };
  const timer = setInterval(flush, 200);
  const runner = await run({
    connectionString: process.env.DATABASE_URL,
    concurrency: Number(process.env.CONCURRENCY ?? 10),
    pollInterval: Number(process.env.POLL_INTERVAL ?? 2000),
    noHandleSignals: true,
    logger: undefined,
    taskList: {
      noop: async (_payload, helpers) => {
        const now = Date.now();
        if (!firstAt) firstAt = now;
        lastAt = now;
        latenesses.push(now - new Date(helpers.job.run_at).getTime());
      },
    },
    ...(batching
      ? {
          preset: {
            worker: {
              localQueue: { size: Number(process.env.LOCAL_QUEUE_SIZE ?? 500) },
              completeJobBatchDelay: 0,
              failJobBatchDelay: 0,
            },
          } as any,
        }
      : {}),
  });
  process.stdout.write('STARTED\n');
  process.on('SIGTERM', async () => {
    await runner.stop();
    flush();
    if (firstAt) process.stdout.write(`SPAN ${firstAt} ${lastAt}\n`);
    clearInterval(timer);
    process.exit(0);
  });
}

main().catch(error => {
  process.stderr.write(`${error.stack}\n`);
  process.exit(1);
});
