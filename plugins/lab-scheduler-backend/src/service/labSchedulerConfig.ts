import { Config } from '@backstage/config';
import { LAB_SCHEDULER_DEFAULTS as DEFAULTS } from '../config/defaults';
import { readOptionalDurationMs } from '../config/durations';

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
    | {
        type: 'sqs';
        queueUrl: string;
        region?: string;
        endpoint?: string;
        /** The queue's message retention period: a run queued longer was dropped unread. */
        messageRetentionMs: number;
      };
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
  lifecycle: {
    /** Longest wait for the plugin's shutdown before the backend goes on stopping. */
    shutdownTimeoutMs: number;
  };
}

/**
 * A duration under `labScheduler` in milliseconds: `key` (a HumanDuration or a string), or the number key
 * of earlier releases it replaces (unit from its name), or undefined.
 */
function duration(
  root: Config,
  key: string,
  options: { deprecatedKey?: string; positive?: boolean } = {},
): number | undefined {
  return readOptionalDurationMs(root, `labScheduler.${key}`, {
    positive: options.positive,
    deprecatedKey: options.deprecatedKey
      ? `labScheduler.${options.deprecatedKey}`
      : undefined,
  });
}

/** SQS keeps a message at least 60 seconds and at most 14 days (MessageRetentionPeriod). */
function sqsMessageRetentionMs(root: Config): number {
  const key = 'queue.sqs.messageRetention';
  const ms = duration(root, key) ?? DEFAULTS.queue.sqsMessageRetentionMs;
  if (ms < 60_000 || ms > 14 * 86_400_000) {
    throw new Error(
      `labScheduler.${key} must be between 60 seconds and 14 days (what SQS accepts as a queue's retention period)`,
    );
  }
  return ms;
}

export function readLabSchedulerConfig(root: Config): LabSchedulerConfig {
  const c = root.getOptionalConfig('labScheduler');
  const d = c?.getOptionalConfig('dispatcher');
  const q = c?.getOptionalConfig('queue');
  const e = c?.getOptionalConfig('execution');
  const type = q?.getOptionalString('type') ?? DEFAULTS.queue.type;
  if (type !== 'inProcess' && type !== 'sqs') {
    throw new Error(
      `labScheduler.queue.type must be 'inProcess' or 'sqs', got '${type}'`,
    );
  }
  const runTimeoutMs =
    duration(root, 'execution.runTimeout', {
      deprecatedKey: 'execution.runTimeoutSeconds',
      positive: true,
    }) ?? DEFAULTS.execution.runTimeoutMs;
  return {
    dispatcher: {
      enabled: d?.getOptionalBoolean('enabled') ?? DEFAULTS.dispatcher.enabled,
      batchSize:
        d?.getOptionalNumber('batchSize') ?? DEFAULTS.dispatcher.batchSize,
      leaseMs:
        duration(root, 'dispatcher.lease', {
          deprecatedKey: 'dispatcher.leaseSeconds',
          positive: true,
        }) ?? DEFAULTS.dispatcher.leaseMs,
      pollIntervalMs:
        duration(root, 'dispatcher.pollInterval', {
          deprecatedKey: 'dispatcher.pollIntervalMs',
          positive: true,
        }) ?? DEFAULTS.dispatcher.pollIntervalMs,
      misfireGraceMs:
        duration(root, 'dispatcher.misfireGrace', {
          deprecatedKey: 'dispatcher.misfireGraceSeconds',
        }) ?? DEFAULTS.dispatcher.misfireGraceMs,
      retryInitialDelayMs:
        duration(root, 'dispatcher.publishRetry.initialDelay', {
          deprecatedKey: 'dispatcher.publishRetry.initialDelayMs',
        }) ?? DEFAULTS.dispatcher.retryInitialDelayMs,
      retryMaxDelayMs:
        duration(root, 'dispatcher.publishRetry.maxDelay', {
          deprecatedKey: 'dispatcher.publishRetry.maxDelayMs',
        }) ?? DEFAULTS.dispatcher.retryMaxDelayMs,
      maxUnrecordedMessages:
        d?.getOptionalNumber('maxUnrecordedMessages') ??
        DEFAULTS.dispatcher.maxUnrecordedMessages,
    },
    queue:
      type === 'sqs'
        ? {
            type,
            queueUrl: q!.getString('sqs.queueUrl'),
            region: q!.getOptionalString('sqs.region'),
            endpoint: q!.getOptionalString('sqs.endpoint'),
            messageRetentionMs: sqsMessageRetentionMs(root),
          }
        : {
            type,
            concurrency:
              q?.getOptionalNumber('inProcess.concurrency') ??
              DEFAULTS.queue.concurrency,
          },
    execution: {
      maxAttempts:
        e?.getOptionalNumber('maxAttempts') ?? DEFAULTS.execution.maxAttempts,
      retryDelayMs:
        duration(root, 'execution.retryDelay', {
          deprecatedKey: 'execution.retryDelayMs',
        }) ?? DEFAULTS.execution.retryDelayMs,
      runTimeoutMs,
      acceptReportsWithoutClaimToken:
        e?.getOptionalBoolean('acceptReportsWithoutClaimToken') ??
        DEFAULTS.execution.acceptReportsWithoutClaimToken,
      lostRunTimeoutMs:
        duration(root, 'execution.lostRunTimeout', {
          deprecatedKey: 'execution.lostRunTimeoutSeconds',
          positive: true,
        }) ?? DEFAULTS.execution.lostRunTimeoutPerRunTimeout * runTimeoutMs,
      rawDataDirectory:
        e?.getOptionalString('rawDataDirectory') ??
        DEFAULTS.execution.rawDataDirectory,
      config: e,
    },
    lifecycle: {
      shutdownTimeoutMs:
        duration(root, 'lifecycle.shutdownTimeout', {
          deprecatedKey: 'lifecycle.shutdownTimeoutMs',
        }) ?? DEFAULTS.lifecycle.shutdownTimeoutMs,
    },
  };
}
