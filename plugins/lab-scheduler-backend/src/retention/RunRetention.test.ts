import { TestDatabaseId } from '@backstage/backend-test-utils';
import { ConfigReader } from '@backstage/config';
import { Knex } from 'knex';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createTestDatabases, databaseIds } from '../__testUtils__/databases';
import { seedTasks } from '../__testUtils__/seed';
import { applyDatabaseMigrations } from '../database/createStores';
import { timeOrderedUuid } from '../database/ids';
import { RunRetention } from './RunRetention';
import {
  readRunRetentionSettings,
  RunRetentionSettings,
} from './retentionConfig';

jest.setTimeout(120_000);

const databases = createTestDatabases();
const DAY = 86_400_000;
const NOW = Date.parse('2027-03-01T00:00:00Z');
const settings: RunRetentionSettings = {
  keepFinishedRunsMs: 30 * DAY,
  keepLastRunsPerTask: 7,
  batchSize: 4,
  pauseBetweenBatchesMs: 0,
  frequencyMs: 10 * 60_000,
};

describe.each(databaseIds)(
  'run retention on %s',
  (databaseId: TestDatabaseId) => {
    let knex: Knex;
    let rawRoot: string;
    let outside: string;

    beforeAll(async () => {
      knex = await databases.init(databaseId);
      await applyDatabaseMigrations(knex);
    });

    beforeEach(async () => {
      await knex('lab_scheduler_runs').delete();
      rawRoot = mkdtempSync(join(tmpdir(), 'lab-raw-'));
      outside = mkdtempSync(join(tmpdir(), 'lab-outside-'));
    });

    afterEach(() => {
      rmSync(rawRoot, { recursive: true, force: true });
      rmSync(outside, { recursive: true, force: true });
    });

    /** A run created at `at` (its id carries that instant, as the dispatcher's do). */
    async function insertRun(
      taskId: string,
      at: number,
      status: string,
      raw?: string,
    ): Promise<string> {
      const id = timeOrderedUuid(at);
      const finished = ['pending', 'queued', 'running'].includes(status)
        ? null
        : at + 1000;
      if (raw) {
        mkdirSync(dirname(raw), { recursive: true });
        writeFileSync(raw, '{}');
      }
      await knex('lab_scheduler_runs').insert({
        id,
        task_id: taskId,
        scheduled_for: at,
        status,
        attempt: 1,
        created_at: at,
        started_at: status === 'pending' ? null : at + 10,
        finished_at: finished,
        lease_expires_at: status === 'pending' ? at + 30_000 : null,
        result: raw
          ? JSON.stringify({ rawData: { uri: `file://${raw}` } })
          : null,
      });
      return id;
    }

    const remaining = async (taskId: string) =>
      (
        await knex('lab_scheduler_runs')
          .where('task_id', taskId)
          .orderBy('scheduled_for')
          .select('id', 'status')
      ).map(r => r.id);

    it('deletes expired finished runs in small batches, keeps the newest per task, and never touches runs in flight', async () => {
      const [busy, sparse] = await seedTasks(knex, [
        {
          schedule: { type: 'once', at: new Date(NOW).toISOString() },
          nextRunAt: null,
        },
        {
          schedule: { type: 'once', at: new Date(NOW).toISOString() },
          nextRunAt: null,
        },
      ]);
      const old: string[] = [];
      const statuses = [
        'succeeded',
        'failed',
        'dead_lettered',
        'skipped',
        'cancelled',
      ];
      for (let i = 0; i < 20; i++) {
        old.push(await insertRun(busy, NOW - (60 - i) * DAY, statuses[i % 5]));
      }
      const inFlight = [
        await insertRun(busy, NOW - 59.5 * DAY, 'pending'),
        await insertRun(busy, NOW - 59.4 * DAY, 'queued'),
        await insertRun(busy, NOW - 59.3 * DAY, 'running'),
      ];
      const recent: string[] = [];
      for (let i = 0; i < 5; i++) {
        recent.push(await insertRun(busy, NOW - (10 - i) * DAY, 'succeeded'));
      }
      // Fewer finished runs than keepLastRunsPerTask: all stay, however old.
      const sparseRuns = [
        await insertRun(sparse, NOW - 90 * DAY, 'succeeded'),
        await insertRun(sparse, NOW - 80 * DAY, 'failed'),
      ];

      const result = await new RunRetention({ knex, settings }).sweep(NOW);

      // The newest 7 finished runs of `busy`: its 5 recent ones and the 2 newest old ones.
      expect(result.runs).toBe(18);
      // Only the 25 runs created before the cut-off are examined, 4 per batch.
      expect(result.batches).toBe(Math.ceil(25 / 4));
      expect(await remaining(busy)).toEqual([
        ...inFlight,
        ...old.slice(18),
        ...recent,
      ]);
      expect(await remaining(sparse)).toEqual(sparseRuns);

      // Nothing left to do: a second sweep deletes nothing.
      expect((await new RunRetention({ knex, settings }).sweep(NOW)).runs).toBe(
        0,
      );
    });

    it('with no runs to keep per task, deletes every expired finished run and nothing newer', async () => {
      const [task] = await seedTasks(knex, [
        {
          schedule: { type: 'once', at: new Date(NOW).toISOString() },
          nextRunAt: null,
        },
      ]);
      await insertRun(task, NOW - 31 * DAY, 'succeeded');
      const kept = await insertRun(task, NOW - 29 * DAY, 'succeeded');
      const result = await new RunRetention({
        knex,
        settings: { ...settings, keepLastRunsPerTask: 0 },
      }).sweep(NOW);
      expect(result.runs).toBe(1);
      expect(await remaining(task)).toEqual([kept]);
    });

    it('deletes the local raw data of the runs it deletes, and only files inside the raw-data folder', async () => {
      const [task] = await seedTasks(knex, [
        {
          schedule: { type: 'once', at: new Date(NOW).toISOString() },
          nextRunAt: null,
        },
      ]);
      const expiredFile = join(rawRoot, 'runs', task, 'expired.json');
      const keptFile = join(rawRoot, 'runs', task, 'kept.json');
      const foreignFile = join(outside, 'not-ours.json');
      await insertRun(task, NOW - 50 * DAY, 'succeeded', expiredFile);
      await insertRun(task, NOW - 49 * DAY, 'succeeded', foreignFile);
      await insertRun(task, NOW - 48 * DAY, 'failed');
      await insertRun(task, NOW - 1 * DAY, 'succeeded', keptFile);

      const result = await new RunRetention({
        knex,
        settings: { ...settings, keepLastRunsPerTask: 1 },
        rawDataDirectory: rawRoot,
      }).sweep(NOW);

      expect(result).toMatchObject({ runs: 3, rawFiles: 1 });
      expect(existsSync(expiredFile)).toBe(false);
      expect(existsSync(keptFile)).toBe(true);
      expect(existsSync(foreignFile)).toBe(true);
    });

    if (databaseId.startsWith('POSTGRES')) {
      it('skips a run another transaction holds instead of waiting for it', async () => {
        const [task] = await seedTasks(knex, [
          {
            schedule: { type: 'once', at: new Date(NOW).toISOString() },
            nextRunAt: null,
          },
        ]);
        const held = await insertRun(task, NOW - 40 * DAY, 'succeeded');
        const free = await insertRun(task, NOW - 39 * DAY, 'succeeded');
        const retention = new RunRetention({
          knex,
          settings: { ...settings, keepLastRunsPerTask: 0 },
        });
        const tx = await knex.transaction();
        try {
          await tx('lab_scheduler_runs')
            .where('id', held)
            .forUpdate()
            .select('id');
          // Waiting for the lock would hang here until the test times out.
          expect((await retention.sweep(NOW)).runs).toBe(1);
          expect(await remaining(task)).toEqual([held]);
        } finally {
          await tx.rollback();
        }
        expect((await retention.sweep(NOW)).runs).toBe(1);
        expect(await remaining(task)).toEqual([]);
        expect(free).toBeDefined();
      }, 30_000);
    }
  },
);

describe('readRunRetentionSettings', () => {
  const read = (retention: object) =>
    readRunRetentionSettings(new ConfigReader({ labScheduler: { retention } }));

  it('is off without keepFinishedRunsFor, with defaults otherwise', () => {
    expect(readRunRetentionSettings(new ConfigReader({}))).toBeUndefined();
    expect(read({ keepLastRunsPerTask: 3 })).toBeUndefined();
    expect(read({ keepFinishedRunsFor: { days: 90 } })).toEqual({
      keepFinishedRunsMs: 90 * DAY,
      keepLastRunsPerTask: 10,
      batchSize: 500,
      pauseBetweenBatchesMs: 20,
      frequencyMs: 10 * 60_000,
    });
  });

  it('reads durations as strings or objects, and the number keys they replace', () => {
    expect(
      read({
        keepFinishedRunsFor: '12h',
        pauseBetweenBatches: { milliseconds: 5 },
        frequency: 'PT1M',
      }),
    ).toMatchObject({
      keepFinishedRunsMs: 12 * 3_600_000,
      pauseBetweenBatchesMs: 5,
      frequencyMs: 60_000,
    });
    // Deprecated: the number keys of earlier releases, in the unit their names give.
    expect(
      read({
        keepFinishedRunsDays: 90,
        pauseBetweenBatchesMs: 5,
        frequencyMinutes: 2,
      }),
    ).toMatchObject({
      keepFinishedRunsMs: 90 * DAY,
      pauseBetweenBatchesMs: 5,
      frequencyMs: 120_000,
    });
  });

  it('names the setting that is out of range', () => {
    expect(() => read({ keepFinishedRunsFor: '0ms' })).toThrow(
      'labScheduler.retention.keepFinishedRunsFor must be longer than zero',
    );
    expect(() => read({ keepFinishedRunsDays: 0 })).toThrow(
      'labScheduler.retention.keepFinishedRunsDays must be longer than zero',
    );
    expect(() =>
      read({ keepFinishedRunsFor: '30d', keepLastRunsPerTask: -1 }),
    ).toThrow(/keepLastRunsPerTask/);
    expect(() => read({ keepFinishedRunsFor: '30d', batchSize: 2.5 })).toThrow(
      /batchSize/,
    );
    expect(() => read({ keepFinishedRunsFor: '30 parsecs' })).toThrow(
      /labScheduler\.retention\.keepFinishedRunsFor/,
    );
  });
});
