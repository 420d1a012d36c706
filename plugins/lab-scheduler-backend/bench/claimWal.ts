/*
 * What a claim round writes, per run: WAL records and bytes of each statement, from EXPLAIN (ANALYZE,
 * WAL) — a count that other load on the machine does not change, unlike a time.
 * `npx node --require @backstage/cli/config/nodeTransform.cjs bench/claimWal.ts` (database
 * lab_claim_wal). The statements are written out here to compare the claim's insert with ON CONFLICT
 * (before 5f647e6) and with a probe of the occurrence key (since); they mirror DispatchStore's with a once-only schedule.
 */
import knexFactory, { Knex } from 'knex';
import { applyDatabaseMigrations } from '../src/database/createStores';
import { newClaimToken, timeOrderedUuid } from '../src/database/ids';
import { seedDueTasks } from '../src/__testUtils__/seed';

const PG = process.env.BENCH_PG ?? 'postgresql://postgres@127.0.0.1:5432';
const BATCH = 500;
const ROUNDS = 8;

type Wal = { records: number; bytes: number; fpi: number };

async function explain(
  db: Knex | Knex.Transaction,
  sql: string,
  bindings: unknown[],
): Promise<Wal> {
  const { rows } = await db.raw(
    `explain (analyze, wal, format json) ${sql}`,
    bindings as Knex.RawBinding[],
  );
  const plan = rows[0]['QUERY PLAN'][0].Plan;
  return {
    records: plan['WAL Records'],
    bytes: plan['WAL Bytes'],
    fpi: plan['WAL FPI'],
  };
}

async function measure(existingRuns: 'on-conflict' | 'key-probe') {
  const admin = knexFactory({ client: 'pg', connection: `${PG}/postgres` });
  await admin.raw('drop database if exists lab_claim_wal with (force)');
  await admin.raw('create database lab_claim_wal');
  await admin.destroy();
  const knex = knexFactory({
    client: 'pg',
    connection: `${PG}/lab_claim_wal`,
    pool: { min: 1, max: 1 },
  });
  await applyDatabaseMigrations(knex);
  await seedDueTasks(knex, BATCH * ROUNDS, Date.now() - 1000);
  // Full-page images follow checkpoints, not the statements: start each variant from one.
  await knex.raw('checkpoint');
  const totals = new Map<string, Wal>();
  const add = (label: string, wal: Wal) => {
    const t = totals.get(label) ?? { records: 0, bytes: 0, fpi: 0 };
    totals.set(label, {
      records: t.records + wal.records,
      bytes: t.bytes + wal.bytes,
      fpi: t.fpi + wal.fpi,
    });
  };
  for (let round = 0; round < ROUNDS; round++) {
    const now = Date.now();
    const token = newClaimToken();
    let runIds: string[] = [];
    await knex.transaction(async tx => {
      const due = `select t.id from lab_scheduler_next_runs n join lab_scheduler_tasks t on t.id = n.task_id
        where n.next_run_at <= ? and t.state = 'active' and t.deleted_at is null
        order by n.next_run_at limit ? for no key update of t, n skip locked`;
      add(
        '1 lock due tasks (select … for no key update)',
        await explain(tx, due, [now, BATCH]),
      );
      const { rows } = await tx.raw(due, [now, BATCH]);
      const taskIds = rows.map((r: { id: string }) => r.id);
      runIds = taskIds.map(() => timeOrderedUuid(now));
      // A one-time task whose run starts keeps its row as it is (state active, sort key its occurrence).
      add(
        '2 delete next runs (delete)',
        await explain(
          tx,
          `delete from lab_scheduler_next_runs n where n.task_id = any(?::text[])`,
          [taskIds],
        ),
      );
      const keep =
        existingRuns === 'on-conflict'
          ? 'on conflict (task_id, scheduled_for) do nothing'
          : `where (select 1 from lab_scheduler_runs x
               where x.task_id = r.task_id and x.scheduled_for = r.scheduled_for) is null`;
      add(
        `3 insert runs (${existingRuns})`,
        await explain(
          tx,
          `insert into lab_scheduler_runs (id, task_id, instrument_ref, scheduled_for, status, attempt,
             claimed_by, claim_token, claimed_at, lease_expires_at, created_at)
           select r.id, r.task_id, 'resource:default/instrument-0', r.scheduled_for, 'pending', 0,
             'bench', ?::text, ?::bigint, ?::bigint, ?::bigint
           from unnest(?::text[], ?::text[], ?::bigint[]) as r(id, task_id, scheduled_for) ${keep}`,
          [
            token,
            now,
            now + 30_000,
            now,
            runIds,
            taskIds,
            taskIds.map(() => now - 1000),
          ],
        ),
      );
    });
    add(
      '4 record publishes (update)',
      await explain(
        knex,
        `update lab_scheduler_runs set status = 'queued', published_at = v.published_at,
           attempt = attempt + 1, lease_expires_at = null, error = null
         from unnest(?::text[], ?::text[], ?::bigint[]) as v(id, claim_token, published_at)
         where lab_scheduler_runs.id = v.id and lab_scheduler_runs.claim_token = v.claim_token
           and lab_scheduler_runs.status = 'pending'`,
        [runIds, runIds.map(() => token), runIds.map(() => now)],
      ),
    );
  }
  const runs = BATCH * ROUNDS;
  let records = 0;
  let bytes = 0;
  for (const [statement, wal] of totals) {
    records += wal.records;
    bytes += wal.bytes;
    process.stdout.write(
      `${JSON.stringify({
        variant: existingRuns,
        statement,
        wal_records_per_run: Number((wal.records / runs).toFixed(2)),
        wal_bytes_per_run: Math.round(wal.bytes / runs),
        full_page_images: wal.fpi,
      })}\n`,
    );
  }
  process.stdout.write(
    `${JSON.stringify({
      variant: existingRuns,
      statement: 'claim round',
      wal_records_per_run: Number((records / runs).toFixed(2)),
      wal_bytes_per_run: Math.round(bytes / runs),
    })}\n`,
  );
  await knex.destroy();
}

async function main() {
  await measure('on-conflict');
  await measure('key-probe');
}

main().catch(error => {
  process.stderr.write(`${error.stack}\n`);
  process.exit(1);
});
