import { ExportResult, ExportResultCode } from '@opentelemetry/core';
import {
  AggregationOption,
  AggregationTemporality,
  AggregationType,
  DataPoint,
  DataPointType,
  ExponentialHistogram,
  Histogram,
  InstrumentType,
  MetricData,
  PushMetricExporter,
  ResourceMetrics,
} from '@opentelemetry/sdk-metrics';
import type { MetricDefinition } from '@lab-scheduler/plugin-lab-scheduler-common';

/** CloudWatch takes at most this many distinct values per metric in one EMF document. */
const MAX_EMF_VALUES = 100;

/** @public */
export interface EmfMetricExporterOptions {
  /** CloudWatch namespace of every metric. */
  namespace: string;
  /**
   * The metrics to export and the dimension sets of each. Anything else the process measures (for
   * example Backstage's own instruments) is left out: every name × dimension combination is a billed
   * CloudWatch metric, and unknown attributes could create thousands.
   */
  metrics: readonly MetricDefinition[];
  /** Where each EMF document goes, one JSON line per call. Default: stdout. */
  write?: (line: string) => void;
}

/** An EMF distribution: CloudWatch computes percentiles from the value/count pairs. */
interface EmfDistribution {
  Values: number[];
  Counts: number[];
  Min: number;
  Max: number;
  Count: number;
  Sum: number;
}

type EmfValue = number | EmfDistribution;

interface EmfDocument {
  timestamp: number;
  dimensionSets: string[][];
  dimensions: Record<string, string>;
  metrics: { name: string; unit: string; value: EmfValue }[];
}

const UNITS: Record<string, string> = {
  ms: 'Milliseconds',
  s: 'Seconds',
  us: 'Microseconds',
  By: 'Bytes',
  '%': 'Percent',
};

/**
 * An OpenTelemetry metric exporter writing CloudWatch Embedded Metric Format (EMF) documents, one JSON
 * line each, for a log shipper (Fluent Bit with `log_format json/emf`) to hand to CloudWatch Logs,
 * which turns them into metrics.
 *
 * What it fixes compared with OTLP → collector → awsemf: the dimension sets are exactly the declared
 * ones (no instrumentation-scope or resource dimensions the alarms would have to repeat); counters and
 * histograms are DELTA, so each document holds what happened since the last export, not since the
 * process started; histograms are exponential and written as `Values`/`Counts` pairs, from which
 * CloudWatch computes percentiles (an explicit histogram sent as min/max/sum/count gives none).
 *
 * @public
 */
export class EmfMetricExporter implements PushMetricExporter {
  private readonly namespace: string;
  private readonly definitions: Map<string, MetricDefinition>;
  private readonly write: (line: string) => void;

  constructor(options: EmfMetricExporterOptions) {
    this.namespace = options.namespace;
    this.definitions = new Map(options.metrics.map(m => [m.name, m]));
    this.write = options.write ?? (line => process.stdout.write(`${line}\n`));
  }

  export(
    metrics: ResourceMetrics,
    resultCallback: (result: ExportResult) => void,
  ): void {
    try {
      for (const line of this.encode(metrics)) this.write(line);
      resultCallback({ code: ExportResultCode.SUCCESS });
    } catch (error) {
      resultCallback({ code: ExportResultCode.FAILED, error: error as Error });
    }
  }

  /** The EMF JSON lines for one collection. */
  encode(metrics: ResourceMetrics): string[] {
    const documents = new Map<string, EmfDocument>();
    for (const scope of metrics.scopeMetrics) {
      for (const metric of scope.metrics) {
        const definition = this.definitions.get(metric.descriptor.name);
        if (definition) this.addMetric(documents, metric, definition);
      }
    }
    return [...documents.values()].map(doc => this.serialize(doc));
  }

  selectAggregationTemporality(
    instrumentType: InstrumentType,
  ): AggregationTemporality {
    // An up-down counter is a level (like a gauge): its delta would be meaningless in CloudWatch.
    return instrumentType === InstrumentType.UP_DOWN_COUNTER ||
      instrumentType === InstrumentType.OBSERVABLE_UP_DOWN_COUNTER
      ? AggregationTemporality.CUMULATIVE
      : AggregationTemporality.DELTA;
  }

  selectAggregation(instrumentType: InstrumentType): AggregationOption {
    if (instrumentType === InstrumentType.HISTOGRAM) {
      // Rescales itself to the values of each interval: fine buckets wherever the values are.
      return {
        type: AggregationType.EXPONENTIAL_HISTOGRAM,
        options: { recordMinMax: true },
      };
    }
    return { type: AggregationType.DEFAULT };
  }

  async forceFlush(): Promise<void> {}

  async shutdown(): Promise<void> {}

  private addMetric(
    documents: Map<string, EmfDocument>,
    metric: MetricData,
    definition: MetricDefinition,
  ) {
    const unit =
      UNITS[metric.descriptor.unit] ??
      (metric.dataPointType === DataPointType.SUM ? 'Count' : 'None');
    for (const point of metric.dataPoints as DataPoint<unknown>[]) {
      // A dimension needs a value: a set naming an attribute this point lacks is left out for it.
      const dimensionSets = definition.dimensionSets
        .filter(set =>
          set.every(key => typeof point.attributes[key] !== 'undefined'),
        )
        .map(set => [...set]);
      if (dimensionSets.length === 0) continue;
      const dimensions = Object.fromEntries(
        [...new Set(dimensionSets.flat())]
          .sort()
          .map(key => [key, String(point.attributes[key])]),
      );
      const timestamp = Math.round(
        point.endTime[0] * 1000 + point.endTime[1] / 1e6,
      );
      const values = toEmfValues(metric, point);
      values.forEach((value, part) => {
        // Metrics sharing time and dimensions share a document; a distribution split into parts
        // needs one document per part (a name may appear once per document).
        const key = JSON.stringify([
          part,
          timestamp,
          dimensionSets,
          dimensions,
        ]);
        let doc = documents.get(key);
        if (!doc) {
          doc = { timestamp, dimensionSets, dimensions, metrics: [] };
          documents.set(key, doc);
        }
        doc.metrics.push({ name: definition.name, unit, value });
      });
    }
  }

  private serialize(doc: EmfDocument): string {
    return JSON.stringify({
      _aws: {
        Timestamp: doc.timestamp,
        CloudWatchMetrics: [
          {
            Namespace: this.namespace,
            Dimensions: doc.dimensionSets,
            Metrics: doc.metrics.map(m => ({ Name: m.name, Unit: m.unit })),
          },
        ],
      },
      ...doc.dimensions,
      ...Object.fromEntries(doc.metrics.map(m => [m.name, m.value])),
    });
  }
}

function toEmfValues(
  metric: MetricData,
  point: DataPoint<unknown>,
): EmfValue[] {
  switch (metric.dataPointType) {
    case DataPointType.SUM:
    case DataPointType.GAUGE:
      return [point.value as number];
    case DataPointType.HISTOGRAM:
      return distribution(
        point.value as Histogram,
        explicitBuckets(point.value as Histogram),
      );
    case DataPointType.EXPONENTIAL_HISTOGRAM:
      return distribution(
        point.value as ExponentialHistogram,
        exponentialBuckets(point.value as ExponentialHistogram),
      );
    default:
      return [];
  }
}

type Bucket = [value: number, count: number];

/** Each bucket as its midpoint; the open-ended ones as the observed min or max. */
function explicitBuckets(h: Histogram): Bucket[] {
  const { boundaries, counts } = h.buckets;
  return counts.map((count, i): Bucket => {
    const lower = i === 0 ? h.min ?? boundaries[0] : boundaries[i - 1];
    const upper = i === boundaries.length ? h.max ?? lower : boundaries[i];
    return [(lower + upper) / 2, count];
  });
}

/** Bucket i of scale s holds (base^i, base^(i+1)] with base = 2^(2^-s); each as its midpoint. */
function exponentialBuckets(h: ExponentialHistogram): Bucket[] {
  const base = 2 ** (2 ** -h.scale);
  const midpoint = (index: number) => (base ** index + base ** (index + 1)) / 2;
  return [
    ...h.negative.bucketCounts.map(
      (count, i): Bucket => [-midpoint(h.negative.offset + i), count],
    ),
    [0, h.zeroCount] as Bucket,
    ...h.positive.bucketCounts.map(
      (count, i): Bucket => [midpoint(h.positive.offset + i), count],
    ),
  ];
}

function distribution(
  h: { count: number; sum?: number; min?: number; max?: number },
  buckets: Bucket[],
): EmfDistribution[] {
  if (h.count === 0) return [];
  // Representative values stay within what was observed, so p0/p100 are the true min/max.
  const clamp = (v: number) => Math.min(h.max ?? v, Math.max(h.min ?? v, v));
  const counts = new Map<number, number>();
  for (const [value, count] of buckets) {
    if (count > 0)
      counts.set(clamp(value), (counts.get(clamp(value)) ?? 0) + count);
  }
  const pairs = [...counts].sort((a, b) => a[0] - b[0]);
  const parts: EmfDistribution[] = [];
  for (let i = 0; i < pairs.length; i += MAX_EMF_VALUES) {
    const slice = pairs.slice(i, i + MAX_EMF_VALUES);
    parts.push({
      Values: slice.map(([v]) => v),
      Counts: slice.map(([, c]) => c),
      Min: slice[0][0],
      Max: slice[slice.length - 1][0],
      Count: slice.reduce((n, [, c]) => n + c, 0),
      Sum: slice.reduce((n, [v, c]) => n + v * c, 0),
    });
  }
  // The exact figures where they are known: the whole distribution fits one document.
  if (parts.length === 1) {
    parts[0].Count = h.count;
    parts[0].Sum = h.sum ?? parts[0].Sum;
    parts[0].Min = h.min ?? parts[0].Min;
    parts[0].Max = h.max ?? parts[0].Max;
  }
  return parts;
}
