import { metrics } from '@opentelemetry/api';

/**
 * Dispatcher metrics through the OpenTelemetry API, as Backstage does: without an SDK they are no-ops;
 * with one (see the deployment docs) they reach Prometheus or CloudWatch.
 */
export function createDispatcherMetrics() {
  const meter = metrics.getMeter('lab-scheduler');
  return {
    lateness: meter.createHistogram('lab_scheduler.dispatch.lateness', {
      description: 'publishedAt - scheduledFor of each run published',
      unit: 'ms',
      advice: {
        explicitBucketBoundaries: [
          1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 5000, 30000,
        ],
      },
    }),
    claimed: meter.createCounter('lab_scheduler.dispatch.claimed', {
      description: 'Runs claimed for publishing',
    }),
    published: meter.createCounter('lab_scheduler.dispatch.published', {
      description: 'Runs published to the queue',
    }),
    publishFailed: meter.createCounter(
      'lab_scheduler.dispatch.publish_failed',
      {
        description: 'Publish attempts that failed (retried with backoff)',
      },
    ),
    recovered: meter.createCounter('lab_scheduler.dispatch.recovered', {
      description: 'Runs recovered from another instance whose lease expired',
    }),
    skipped: meter.createCounter('lab_scheduler.dispatch.skipped', {
      description: 'Occurrences skipped by the misfire or overlap policy',
    }),
    publishRejected: meter.createCounter(
      'lab_scheduler.dispatch.publish_rejected',
      {
        description:
          'Runs failed because the queue refused their message for good',
      },
    ),
    heartbeat: meter.createCounter('lab_scheduler.dispatch.heartbeat', {
      description: 'Dispatcher loop rounds (missing data: a dead dispatcher)',
    }),
    backlog: meter.createObservableGauge('lab_scheduler.dispatch.backlog', {
      description: 'Occurrences and runs due but not yet published',
    }),
  };
}

export type DispatcherMetrics = ReturnType<typeof createDispatcherMetrics>;
