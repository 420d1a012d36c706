/*
 * OpenTelemetry for production: load with `node --require ./packages/backend/instrumentation.js …`.
 * LAB_SCHEDULER_METRICS_EXPORT chooses where the Lab Scheduler's metrics (DISPATCH_METRICS of
 * @lab-scheduler/plugin-lab-scheduler-common) go:
 *
 *   emf   CloudWatch Embedded Metric Format lines on stdout, which Fluent Bit ships to a log group with
 *         `log_format json/emf` (k8s/observability/fluent-bit-values.yaml). The names, dimension sets,
 *         delta counts and lateness percentiles are exactly what the CDK alarms query.
 *   otlp  OTLP/HTTP to OTEL_EXPORTER_OTLP_ENDPOINT (a collector; for Prometheus, Grafana …), with
 *         delta temporality and exponential histograms preferred.
 *
 * Unset: `otlp` when OTEL_EXPORTER_OTLP_ENDPOINT is set (as before), otherwise nothing is exported.
 * OTEL_METRIC_EXPORT_INTERVAL (ms, default 30000) sets the period; keep it under a minute so every
 * one-minute alarm period gets data.
 */
const mode =
  process.env.LAB_SCHEDULER_METRICS_EXPORT ??
  (process.env.OTEL_EXPORTER_OTLP_ENDPOINT ? 'otlp' : 'none');
const exportIntervalMillis = Number(
  process.env.OTEL_METRIC_EXPORT_INTERVAL ?? 30000,
);

if (mode === 'emf') {
  const { metrics } = require('@opentelemetry/api');
  const {
    MeterProvider,
    PeriodicExportingMetricReader,
  } = require('@opentelemetry/sdk-metrics');
  const {
    DISPATCH_METRICS,
    METRICS_NAMESPACE,
  } = require('@lab-scheduler/plugin-lab-scheduler-common');
  const {
    EmfMetricExporter,
  } = require('@lab-scheduler/plugin-lab-scheduler-node');

  const provider = new MeterProvider({
    readers: [
      new PeriodicExportingMetricReader({
        exporter: new EmfMetricExporter({
          namespace: METRICS_NAMESPACE,
          metrics: Object.values(DISPATCH_METRICS),
        }),
        exportIntervalMillis,
      }),
    ],
  });
  metrics.setGlobalMeterProvider(provider);
  // The last interval's counts are written on the way out (Kubernetes sends SIGTERM first).
  process.once('SIGTERM', () => {
    provider.shutdown().catch(() => {});
  });
} else if (mode === 'otlp') {
  const { NodeSDK } = require('@opentelemetry/sdk-node');
  const {
    AggregationTemporalityPreference,
    OTLPMetricExporter,
  } = require('@opentelemetry/exporter-metrics-otlp-http');
  const {
    AggregationType,
    InstrumentType,
    PeriodicExportingMetricReader,
  } = require('@opentelemetry/sdk-metrics');

  const sdk = new NodeSDK({
    metricReader: new PeriodicExportingMetricReader({
      exporter: new OTLPMetricExporter({
        temporalityPreference: AggregationTemporalityPreference.DELTA,
        aggregationPreference: type => ({
          type:
            type === InstrumentType.HISTOGRAM
              ? AggregationType.EXPONENTIAL_HISTOGRAM
              : AggregationType.DEFAULT,
        }),
      }),
      exportIntervalMillis,
    }),
  });
  sdk.start();
  process.once('SIGTERM', () => {
    sdk.shutdown().catch(() => {});
  });
} else if (mode !== 'none') {
  throw new Error(
    `LAB_SCHEDULER_METRICS_EXPORT must be emf, otlp or none, not ${mode}`,
  );
}
