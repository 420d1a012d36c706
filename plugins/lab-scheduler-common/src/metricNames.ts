/**
 * The CloudWatch metrics of the Lab Scheduler: what the backend and the Lambda emit, and what the CDK
 * stack's alarms and dashboard query. Both sides import these, so a name or a dimension set cannot drift
 * apart (metrics.contract.test.ts in the lambda package checks the emitted output against the stack).
 *
 * A dimension set lists the keys of one CloudWatch metric: `[]` is the metric without dimensions
 * (the aggregate over all replicas and types), `['measurement_type']` one metric per measurement type.
 */

/** @public */
export const METRICS_NAMESPACE = 'LabScheduler';

/** @public */
export interface MetricDefinition {
  readonly name: string;
  readonly dimensionSets: readonly (readonly string[])[];
}

const aggregate = [[]] as const;

/**
 * Dispatcher metrics (OpenTelemetry instruments in the backend, exported as EMF). None carries the
 * replica as a dimension: the alarms look at the service, and per-replica metrics would multiply cost.
 * @public
 */
export const DISPATCH_METRICS = {
  /** publishedAt - scheduledFor of each run published (ms), a distribution: alarms use p99. */
  lateness: {
    name: 'lab_scheduler.dispatch.lateness',
    dimensionSets: [[], ['measurement_type']],
  },
  claimed: { name: 'lab_scheduler.dispatch.claimed', dimensionSets: aggregate },
  published: {
    name: 'lab_scheduler.dispatch.published',
    dimensionSets: aggregate,
  },
  publishFailed: {
    name: 'lab_scheduler.dispatch.publish_failed',
    dimensionSets: aggregate,
  },
  publishRejected: {
    name: 'lab_scheduler.dispatch.publish_rejected',
    dimensionSets: aggregate,
  },
  recovered: {
    name: 'lab_scheduler.dispatch.recovered',
    dimensionSets: aggregate,
  },
  skipped: { name: 'lab_scheduler.dispatch.skipped', dimensionSets: aggregate },
  /** One per dispatcher loop round: its absence means no dispatcher is running. */
  heartbeat: {
    name: 'lab_scheduler.dispatch.heartbeat',
    dimensionSets: aggregate,
  },
  backlog: { name: 'lab_scheduler.dispatch.backlog', dimensionSets: aggregate },
} as const satisfies Record<string, MetricDefinition>;

/**
 * The measurement Lambda's service name: Powertools adds it as the `service` dimension of every
 * metric it emits.
 * @public
 */
export const EXECUTOR_SERVICE_NAME = 'lab-scheduler-executor';

const byService = [['service']] as const;

/**
 * Measurement Lambda metrics (Powertools EMF).
 * @public
 */
export const EXECUTOR_METRICS = {
  succeeded: { name: 'MeasurementSucceeded', dimensionSets: byService },
  failed: { name: 'MeasurementFailed', dimensionSets: byService },
  qcFailed: { name: 'QcFailed', dimensionSets: byService },
  duplicateDelivery: { name: 'DuplicateDelivery', dimensionSets: byService },
  duration: { name: 'MeasurementDuration', dimensionSets: byService },
} as const satisfies Record<string, MetricDefinition>;
