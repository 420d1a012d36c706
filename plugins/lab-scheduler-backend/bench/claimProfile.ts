/*
 * The claim path alone, in one process (no queue, no timers): seeds N due one-time tasks, claims and
 * marks published with C concurrent loops of batch B, and prints runs/s and the time per statement.
 * For tuning SQL: `npx node --require @backstage/cli/config/nodeTransform.cjs bench/claimProfile.ts`
 * Env: N (50000), C (1), B (500), ANALYZE=1 to give the planner statistics first, DDL (statements run
 * after the migrations, separated by ';') to try a schema change. Uses database lab_claim_profile.
 */
import knexFactory from 'knex';
import { applyDatabaseMigrations } from '../src/database/createStores';
import { DispatchStore } from '../src/database/DispatchStore';
import { seedDueTasks } from '../src/__testUtils__/seed';

const PG = process.env.BENCH_PG ?? 'postgresql://postgres@127.0.0.1:5432';

async function main() {
  const admin = knexFactory({ client: 'pg', connection: `${PG}/postgres` });
  await admin.raw('drop database if exists lab_claim_profile with (force)');
  await admin.raw('create database lab_claim_profile');
  await admin.destroy();
  const knex = knexFactory({
    client: 'pg',
    connection: `${PG}/lab_claim_profile`,
    pool: { min: 1, max: 8 },
  });
  await applyDatabaseMigrations(knex);
  for (const statement of (process.env.DDL ?? '')
    .split(';')
    .filter(x => x.trim())) {
    await knex.raw(statement);
  }
  const count = Number(process.env.N ?? 50_000);
  const due = Date.now() - 1000;
  await seedDueTasks(knex, count, due);
  if (process.env.ANALYZE) await knex.raw('analyze');

  const totals = new Map<string, number>();
  const started = new Map<string, [number, string]>();
  knex.on('query', q =>
    started.set(q.__knexQueryUid, [
      performance.now(),
      q.sql.slice(0, 50).replace(/\s+/g, ' '),
    ]),
  );
  knex.on('query-response', (_response, q) => {
    const [at, sql] = started.get(q.__knexQueryUid)!;
    totals.set(sql, (totals.get(sql) ?? 0) + performance.now() - at);
  });

  const store = new DispatchStore(knex);
  const t0 = performance.now();
  let claimed = 0;
  const loop = async (instanceId: string) => {
    for (;;) {
      const result = await store.claimDueTasks({
        instanceId,
        nowMs: Date.now(),
        batchSize: Number(process.env.B ?? 500),
        leaseMs: 30_000,
        graceMs: 60_000,
      });
      if (result.runs.length === 0) return;
      claimed += result.runs.length;
      await store.markPublished(
        result.runs.map(r => ({
          id: r.id,
          claimToken: r.claimToken,
          publishedAt: Date.now(),
        })),
      );
    }
  };
  await Promise.all(
    Array.from({ length: Number(process.env.C ?? 1) }, (_, i) =>
      loop(`profile-${i}`),
    ),
  );
  const ms = performance.now() - t0;
  process.stdout.write(
    `${JSON.stringify({
      claimed,
      ms: Math.round(ms),
      runs_per_s: Math.round((claimed / ms) * 1000),
    })}\n`,
  );
  for (const [sql, total] of [...totals].sort((a, b) => b[1] - a[1])) {
    process.stdout.write(`${Math.round(total)} ms  ${sql}\n`);
  }
  await knex.destroy();
}

main().catch(error => {
  process.stderr.write(`${error.stack}\n`);
  process.exit(1);
});
