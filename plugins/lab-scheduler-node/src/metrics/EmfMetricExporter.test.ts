import {
  MeterProvider,
  PeriodicExportingMetricReader,
} from '@opentelemetry/sdk-metrics';
import { EmfMetricExporter } from './EmfMetricExporter';

/** The real OpenTelemetry SDK with the exporter; each flush returns the EMF documents it wrote. */
function setUp() {
  const lines: string[] = [];
  const exporter = new EmfMetricExporter({
    namespace: 'Test',
    metrics: [
      { name: 'runs', dimensionSets: [[]] },
      { name: 'lateness', dimensionSets: [[], ['measurement_type']] },
      { name: 'backlog', dimensionSets: [[]] },
    ],
    write: line => lines.push(line),
  });
  const reader = new PeriodicExportingMetricReader({
    exporter,
    exportIntervalMillis: 3_600_000,
  });
  const provider = new MeterProvider({ readers: [reader] });
  const meter = provider.getMeter('test');
  const flush = async () => {
    await reader.forceFlush();
    return lines.splice(0).map(line => JSON.parse(line));
  };
  return { meter, flush, shutdown: () => provider.shutdown() };
}

const documentsWith = (docs: any[], name: string) =>
  docs.filter(d => name in d);

describe('EmfMetricExporter', () => {
  it('writes counters as deltas: each flush holds only what happened since the last', async () => {
    const { meter, flush, shutdown } = setUp();
    const runs = meter.createCounter('runs');
    runs.add(3);
    const [first] = documentsWith(await flush(), 'runs');
    expect(first).toMatchObject({
      _aws: {
        Timestamp: expect.any(Number),
        CloudWatchMetrics: [
          {
            Namespace: 'Test',
            Dimensions: [[]],
            Metrics: [{ Name: 'runs', Unit: 'Count' }],
          },
        ],
      },
      runs: 3,
    });
    runs.add(2);
    expect(documentsWith(await flush(), 'runs')).toEqual([
      expect.objectContaining({ runs: 2 }),
    ]);
    // Adding 0 still reports 0: a running dispatcher never leaves a gap.
    runs.add(0);
    expect(documentsWith(await flush(), 'runs')).toEqual([
      expect.objectContaining({ runs: 0 }),
    ]);
    await shutdown();
  });

  it('writes a histogram as a distribution per declared dimension set, with exact count, sum, min and max', async () => {
    const { meter, flush, shutdown } = setUp();
    const lateness = meter.createHistogram('lateness', { unit: 'ms' });
    const values = [0, 1, 2, 3, 5, 8, 13, 21, 34, 55, 89, 144, 1000];
    for (const v of values)
      lateness.record(v, { measurement_type: 'plate-od' });
    lateness.record(7); // no measurement type: only the aggregate metric
    const docs = documentsWith(await flush(), 'lateness');
    expect(docs).toHaveLength(2);
    const typed = docs.find(d => d.measurement_type === 'plate-od');
    expect(typed._aws.CloudWatchMetrics[0]).toEqual({
      Namespace: 'Test',
      Dimensions: [[], ['measurement_type']],
      Metrics: [{ Name: 'lateness', Unit: 'Milliseconds' }],
    });
    const dist = typed.lateness;
    expect(dist).toMatchObject({
      Count: values.length,
      Sum: values.reduce((a, b) => a + b, 0),
      Min: 0,
      Max: 1000,
    });
    expect(dist.Values).toHaveLength(dist.Counts.length);
    expect(dist.Counts.reduce((a: number, b: number) => a + b, 0)).toBe(
      values.length,
    );
    // Each value lands in a bucket whose representative is within a few percent of it.
    for (const v of values.filter(x => x > 0)) {
      const nearest = dist.Values.reduce((best: number, x: number) =>
        Math.abs(x - v) < Math.abs(best - v) ? x : best,
      );
      expect(Math.abs(nearest - v) / v).toBeLessThan(0.05);
    }
    const untyped = docs.find(d => !('measurement_type' in d));
    expect(untyped._aws.CloudWatchMetrics[0].Dimensions).toEqual([[]]);
    expect(untyped.lateness).toMatchObject({
      Values: [7],
      Counts: [1],
      Count: 1,
    });
    await shutdown();
  });

  it('splits a distribution of more than 100 distinct values across documents, keeping every count', async () => {
    const { meter, flush, shutdown } = setUp();
    const lateness = meter.createHistogram('lateness', { unit: 'ms' });
    // Values spread so widely that the exponential histogram keeps its full 160 buckets.
    let recorded = 0;
    for (let i = 0; i < 400; i++) {
      lateness.record(1.05 ** i);
      recorded++;
    }
    const docs = documentsWith(await flush(), 'lateness');
    expect(docs.length).toBeGreaterThan(1);
    for (const doc of docs) {
      expect(doc.lateness.Values.length).toBeLessThanOrEqual(100);
    }
    const total = docs
      .flatMap(d => d.lateness.Counts)
      .reduce((a: number, b: number) => a + b, 0);
    expect(total).toBe(recorded);
    expect(docs.map(d => d.lateness.Count).reduce((a, b) => a + b)).toBe(
      recorded,
    );
    await shutdown();
  });

  it('exports only the declared metrics, and gauges as their current value', async () => {
    const { meter, flush, shutdown } = setUp();
    meter.createCounter('undeclared').add(1, { taskId: 'abc' });
    meter
      .createObservableGauge('backlog')
      .addCallback(result => result.observe(42));
    const docs = await flush();
    expect(docs.some(d => 'undeclared' in d)).toBe(false);
    expect(documentsWith(docs, 'backlog')).toEqual([
      expect.objectContaining({ backlog: 42 }),
    ]);
    await shutdown();
  });
});
