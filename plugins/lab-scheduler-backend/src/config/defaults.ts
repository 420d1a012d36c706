import { SHUTDOWN_BUDGET_MS } from '../lifecycle/stopWithin';

/**
 * Every default of the `labScheduler` settings, written once: the config readers and the dispatcher
 * take them from here (config.d.ts and the README document them). Durations are in milliseconds.
 */
export const LAB_SCHEDULER_DEFAULTS = {
  dispatcher: {
    enabled: true,
    batchSize: 200,
    leaseMs: 30_000,
    pollIntervalMs: 5_000,
    misfireGraceMs: 60_000,
    retryInitialDelayMs: 500,
    retryMaxDelayMs: 60_000,
    // 8 SendMessageBatch requests of 10 in flight.
    maxUnrecordedMessages: 80,
    // Not configurable: the dispatcher's own tunables (see DispatcherOptions).
    slotRetryMs: 2_000,
    lookAheadMs: 50,
    // Durable (remote) queues only: see DispatcherOptions.publishWindowMs.
    publishWindowMs: 5,
    queueProbeIntervalMs: 1_000,
  },
  queue: {
    type: 'inProcess',
    concurrency: 4,
    // The CDK stack's queue keeps a message 4 days (LabSchedulerStack: retentionPeriod).
    sqsMessageRetentionMs: 4 * 86_400_000,
  },
  execution: {
    maxAttempts: 3,
    retryDelayMs: 1_000,
    runTimeoutMs: 900_000,
    // A run's message is gone after the queue's visibility timeout times maxReceiveCount: the CDK
    // stack's visibility timeout is 6 × the Lambda timeout, with 5 receives (30×), plus a margin.
    lostRunTimeoutPerRunTimeout: 31,
    acceptReportsWithoutClaimToken: false,
    rawDataDirectory: 'data/raw',
    simulatedDelayMs: 0,
    simulatedFaultRate: 0,
  },
  lifecycle: { shutdownTimeoutMs: SHUTDOWN_BUDGET_MS },
  api: { maxBodySize: '64kb' },
  retention: {
    keepLastRunsPerTask: 10,
    batchSize: 500,
    pauseBetweenBatchesMs: 20,
    frequencyMs: 10 * 60_000,
  },
  notifications: {
    enabled: true,
    windowMs: 30 * 60_000,
    pollIntervalMs: 10_000,
  },
} as const;
