import { ConfigReader } from '@backstage/config';
import { readNotificationSettings } from '../notifications/scheduleRunNotifications';
import { readLabSchedulerConfig } from './labSchedulerConfig';

const read = (labScheduler: object) =>
  readLabSchedulerConfig(new ConfigReader({ labScheduler }));

describe('readLabSchedulerConfig', () => {
  it('has the documented defaults (config.d.ts)', () => {
    const settings = readLabSchedulerConfig(new ConfigReader({}));
    expect(settings.dispatcher).toEqual({
      enabled: true,
      batchSize: 200,
      leaseMs: 30_000,
      pollIntervalMs: 5_000,
      misfireGraceMs: 60_000,
      retryInitialDelayMs: 500,
      retryMaxDelayMs: 60_000,
      maxUnrecordedMessages: 80,
    });
    expect(settings.execution).toMatchObject({
      maxAttempts: 3,
      retryDelayMs: 1_000,
      runTimeoutMs: 900_000,
      lostRunTimeoutMs: 31 * 900_000,
    });
    expect(settings.lifecycle).toEqual({ shutdownTimeoutMs: 1_500 });
  });

  it('reads every duration as a string or a HumanDuration object', () => {
    const settings = read({
      dispatcher: {
        lease: '45s',
        pollInterval: { seconds: 2 },
        misfireGrace: 'PT2M',
        publishRetry: { initialDelay: '250ms', maxDelay: { minutes: 5 } },
      },
      execution: { retryDelay: '2 seconds', runTimeout: '5m' },
      lifecycle: { shutdownTimeout: { seconds: 30 } },
    });
    expect(settings.dispatcher).toMatchObject({
      leaseMs: 45_000,
      pollIntervalMs: 2_000,
      misfireGraceMs: 120_000,
      retryInitialDelayMs: 250,
      retryMaxDelayMs: 300_000,
    });
    expect(settings.execution).toMatchObject({
      retryDelayMs: 2_000,
      runTimeoutMs: 300_000,
      // Follows the run timeout unless set.
      lostRunTimeoutMs: 31 * 300_000,
    });
    expect(settings.lifecycle.shutdownTimeoutMs).toBe(30_000);
    expect(
      read({ execution: { lostRunTimeout: { hours: 2 } } }).execution
        .lostRunTimeoutMs,
    ).toBe(7_200_000);
  });

  it("reads the SQS queue's message retention, 4 days (the CDK stack's queue) unless set", () => {
    const sqs = (extra: object) =>
      read({ queue: { type: 'sqs', sqs: { queueUrl: 'q', ...extra } } }).queue;
    expect(sqs({})).toMatchObject({ messageRetentionMs: 4 * 86_400_000 });
    expect(sqs({ messageRetention: '14 days' })).toMatchObject({
      messageRetentionMs: 14 * 86_400_000,
    });
    expect(sqs({ messageRetention: { hours: 1 } })).toMatchObject({
      messageRetentionMs: 3_600_000,
    });
    for (const outOfRange of ['0s', '30s', '15 days']) {
      expect(() => sqs({ messageRetention: outOfRange })).toThrow(
        'labScheduler.queue.sqs.messageRetention must be between 60 seconds and 14 days',
      );
    }
  });

  it('still reads the deprecated number keys, in the unit their names give', () => {
    const settings = read({
      dispatcher: {
        leaseSeconds: 45,
        pollIntervalMs: 500,
        misfireGraceSeconds: 120,
        publishRetry: { initialDelayMs: 250, maxDelayMs: 300_000 },
      },
      execution: {
        retryDelayMs: 20,
        runTimeoutSeconds: 300,
        lostRunTimeoutSeconds: 3_600,
      },
      lifecycle: { shutdownTimeoutMs: 30_000 },
    });
    expect(settings.dispatcher).toMatchObject({
      leaseMs: 45_000,
      pollIntervalMs: 500,
      misfireGraceMs: 120_000,
      retryInitialDelayMs: 250,
      retryMaxDelayMs: 300_000,
    });
    expect(settings.execution).toMatchObject({
      retryDelayMs: 20,
      runTimeoutMs: 300_000,
      lostRunTimeoutMs: 3_600_000,
    });
    expect(settings.lifecycle.shutdownTimeoutMs).toBe(30_000);
  });

  it('refuses a setting given in both forms, naming both keys', () => {
    expect(() =>
      read({ dispatcher: { lease: '45s', leaseSeconds: 30 } }),
    ).toThrow(
      'Both labScheduler.dispatcher.lease and labScheduler.dispatcher.leaseSeconds (deprecated) are set; keep only labScheduler.dispatcher.lease',
    );
  });

  it('names the key of a duration it cannot read', () => {
    expect(() => read({ dispatcher: { lease: 30 } })).toThrow(
      "labScheduler.dispatcher.lease must be a duration such as '30s' or { seconds: 30 }, not the bare number 30",
    );
    expect(() => read({ execution: { runTimeout: 'a while' } })).toThrow(
      /labScheduler\.execution\.runTimeout/,
    );
    expect(() =>
      read({ dispatcher: { pollInterval: { sekunden: 5 } } }),
    ).toThrow(/labScheduler\.dispatcher\.pollInterval/);
    expect(() => read({ dispatcher: { lease: '0s' } })).toThrow(
      'labScheduler.dispatcher.lease must be longer than zero',
    );
    expect(() =>
      read({ dispatcher: { misfireGrace: { seconds: -1 } } }),
    ).toThrow('labScheduler.dispatcher.misfireGrace must be zero or longer');
  });

  it("takes an override file's string over the base file's (objects would merge key by key)", () => {
    // Why the repository's config files write durations as strings: Backstage merges config files,
    // and two HumanDuration objects merge into their sum of keys ({ minutes: 5 } + { seconds: 20 }).
    const base = { labScheduler: { execution: { runTimeout: '5m' } } };
    const override = { labScheduler: { execution: { runTimeout: '20s' } } };
    expect(
      readLabSchedulerConfig(
        ConfigReader.fromConfigs([
          { context: 'app-config.yaml', data: base },
          { context: 'override.yaml', data: override },
        ]),
      ).execution.runTimeoutMs,
    ).toBe(20_000);
    expect(
      readLabSchedulerConfig(
        ConfigReader.fromConfigs([
          {
            context: 'app-config.yaml',
            data: {
              labScheduler: { execution: { runTimeout: { minutes: 5 } } },
            },
          },
          {
            context: 'override.yaml',
            data: {
              labScheduler: { execution: { runTimeout: { seconds: 20 } } },
            },
          },
        ]),
      ).execution.runTimeoutMs,
    ).toBe(320_000);
  });
});

describe('readNotificationSettings', () => {
  it('reads its durations the same way, with its defaults', () => {
    expect(readNotificationSettings(new ConfigReader({}))).toEqual({
      enabled: true,
      windowMs: 1_800_000,
      pollIntervalMs: 10_000,
    });
    expect(
      readNotificationSettings(
        new ConfigReader({
          labScheduler: {
            notifications: { window: '1h', pollInterval: { seconds: 30 } },
          },
        }),
      ),
    ).toMatchObject({ windowMs: 3_600_000, pollIntervalMs: 30_000 });
  });
});
