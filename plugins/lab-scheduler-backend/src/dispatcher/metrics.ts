import { metrics } from '@opentelemetry/api';
import { DISPATCH_METRICS } from '@lab-scheduler/plugin-lab-scheduler-common';

/**
 * Dispatcher metrics through the OpenTelemetry API, as Backstage does: without an SDK they are no-ops;
 * with one (packages/backend/instrumentation.js) they become CloudWatch metrics named by
 * DISPATCH_METRICS, the module the CDK alarms import too.
 *
 * Counters are added to even when the amount is 0, so CloudWatch gets a 0 rather than no data while
 * the dispatcher runs: only a dead dispatcher leaves gaps.
 */
export function createDispatcherMetrics() {
  const meter = metrics.getMeter('lab-scheduler');
  const counter = (name: string, description: string) =>
    meter.createCounter(name, { description });
  return {
    lateness: meter.createHistogram(DISPATCH_METRICS.lateness.name, {
      description:
        'publishedAt - scheduledFor of each run published (attribute: measurement_type)',
      unit: 'ms',
      // For readers that keep the default explicit histogram (the EMF exporter asks for exponential).
      advice: {
        explicitBucketBoundaries: [
          1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 5000, 30000,
        ],
      },
    }),
    claimed: counter(
      DISPATCH_METRICS.claimed.name,
      'Runs claimed for publishing',
    ),
    published: counter(
      DISPATCH_METRICS.published.name,
      'Runs published to the queue',
    ),
    publishFailed: counter(
      DISPATCH_METRICS.publishFailed.name,
      'Publish attempts that failed (retried with backoff)',
    ),
    publishRejected: counter(
      DISPATCH_METRICS.publishRejected.name,
      'Runs failed because the queue refused their message for good',
    ),
    recovered: counter(
      DISPATCH_METRICS.recovered.name,
      'Runs recovered from another instance whose lease expired',
    ),
    skipped: counter(
      DISPATCH_METRICS.skipped.name,
      'Occurrences skipped by the misfire or overlap policy',
    ),
    heartbeat: counter(
      DISPATCH_METRICS.heartbeat.name,
      'Dispatcher loop rounds, 1 each (missing data: no dispatcher is running)',
    ),
    backlog: meter.createObservableGauge(DISPATCH_METRICS.backlog.name, {
      description: 'Occurrences and runs due but not yet published',
    }),
  };
}

export type DispatcherMetrics = ReturnType<typeof createDispatcherMetrics>;
