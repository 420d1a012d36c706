import { Config } from '@backstage/config';

/** The plugin's settings from `labScheduler.*`, with defaults (see config.d.ts). */
export interface LabSchedulerConfig {
  dispatcher: {
    enabled: boolean;
    batchSize: number;
    leaseMs: number;
    pollIntervalMs: number;
    misfireGraceMs: number;
    retryInitialDelayMs: number;
    retryMaxDelayMs: number;
    maxUnrecordedMessages: number;
  };
  queue:
    | { type: 'inProcess'; concurrency: number }
    | { type: 'sqs'; queueUrl: string; region?: string; endpoint?: string };
  execution: {
    maxAttempts: number;
    retryDelayMs: number;
    runTimeoutMs: number;
    /** A run running this long is failed as lost (its message will not come back). */
    lostRunTimeoutMs: number;
    /** Upgrade window only: reports without a claim token are accepted (see config.d.ts). */
    acceptReportsWithoutClaimToken: boolean;
    rawDataDirectory: string;
    config?: Config;
  };
}

export function readLabSchedulerConfig(root: Config): LabSchedulerConfig {
  const c = root.getOptionalConfig('labScheduler');
  const d = c?.getOptionalConfig('dispatcher');
  const q = c?.getOptionalConfig('queue');
  const e = c?.getOptionalConfig('execution');
  const type = q?.getOptionalString('type') ?? 'inProcess';
  const runTimeoutSeconds = e?.getOptionalNumber('runTimeoutSeconds') ?? 900;
  if (type !== 'inProcess' && type !== 'sqs') {
    throw new Error(
      `labScheduler.queue.type must be 'inProcess' or 'sqs', got '${type}'`,
    );
  }
  return {
    dispatcher: {
      enabled: d?.getOptionalBoolean('enabled') ?? true,
      batchSize: d?.getOptionalNumber('batchSize') ?? 200,
      leaseMs: (d?.getOptionalNumber('leaseSeconds') ?? 30) * 1000,
      pollIntervalMs: d?.getOptionalNumber('pollIntervalMs') ?? 5000,
      misfireGraceMs:
        (d?.getOptionalNumber('misfireGraceSeconds') ?? 60) * 1000,
      retryInitialDelayMs:
        d?.getOptionalNumber('publishRetry.initialDelayMs') ?? 500,
      retryMaxDelayMs:
        d?.getOptionalNumber('publishRetry.maxDelayMs') ?? 60_000,
      maxUnrecordedMessages:
        d?.getOptionalNumber('maxUnrecordedMessages') ?? 80,
    },
    queue:
      type === 'sqs'
        ? {
            type,
            queueUrl: q!.getString('sqs.queueUrl'),
            region: q!.getOptionalString('sqs.region'),
            endpoint: q!.getOptionalString('sqs.endpoint'),
          }
        : {
            type,
            concurrency: q?.getOptionalNumber('inProcess.concurrency') ?? 4,
          },
    execution: {
      maxAttempts: e?.getOptionalNumber('maxAttempts') ?? 3,
      retryDelayMs: e?.getOptionalNumber('retryDelayMs') ?? 1000,
      runTimeoutMs: runTimeoutSeconds * 1000,
      acceptReportsWithoutClaimToken:
        e?.getOptionalBoolean('acceptReportsWithoutClaimToken') ?? false,
      lostRunTimeoutMs:
        (e?.getOptionalNumber('lostRunTimeoutSeconds') ??
          31 * runTimeoutSeconds) * 1000,
      rawDataDirectory: e?.getOptionalString('rawDataDirectory') ?? 'data/raw',
      config: e,
    },
  };
}
