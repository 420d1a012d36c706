/*
 * OpenTelemetry for production: load with `node --require ./packages/backend/instrumentation.js …`.
 * Exports the Lab Scheduler's metrics (lab_scheduler.dispatch.*) over OTLP/HTTP when
 * OTEL_EXPORTER_OTLP_ENDPOINT is set (e.g. to the ADOT collector in k8s/observability, which writes them
 * to CloudWatch); does nothing otherwise.
 */
if (process.env.OTEL_EXPORTER_OTLP_ENDPOINT) {
  const { NodeSDK } = require('@opentelemetry/sdk-node');
  const {
    OTLPMetricExporter,
  } = require('@opentelemetry/exporter-metrics-otlp-http');
  const {
    PeriodicExportingMetricReader,
  } = require('@opentelemetry/sdk-metrics');

  const sdk = new NodeSDK({
    metricReader: new PeriodicExportingMetricReader({
      exporter: new OTLPMetricExporter(),
      exportIntervalMillis: Number(
        process.env.OTEL_METRIC_EXPORT_INTERVAL ?? 30000,
      ),
    }),
  });
  sdk.start();
  process.on('SIGTERM', () => {
    sdk.shutdown().catch(() => {});
  });
}
