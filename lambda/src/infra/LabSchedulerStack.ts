import {
  aws_cloudwatch as cloudwatch,
  aws_cloudwatch_actions as cwActions,
  aws_lambda as lambda,
  aws_lambda_event_sources as sources,
  aws_logs as logs,
  aws_s3 as s3,
  aws_secretsmanager as secretsmanager,
  aws_sns as sns,
  aws_sqs as sqs,
  CfnOutput,
  Duration,
  RemovalPolicy,
  Stack,
  StackProps,
} from 'aws-cdk-lib';
import {
  DISPATCH_METRICS,
  EXECUTOR_METRICS,
  EXECUTOR_SERVICE_NAME,
  METRICS_NAMESPACE,
  MetricDefinition,
} from '@lab-scheduler/plugin-lab-scheduler-common';
import { Construct } from 'constructs';
import { executorNetwork, ExecutorNetworkProps } from './executorNetwork';

/** Settings of the measurement stack; all but `apiUrl` have production-minded defaults. */
export interface LabSchedulerStackProps extends StackProps {
  /** The plugin's API base the Lambda reports to, e.g. https://portal.example.com/api/lab-scheduler */
  apiUrl: string;
  /** Path of the built dist/lambda.zip. */
  codePath: string;
  /** FIFO queue: per-instrument ordering and SQS-side deduplication by run id and claim. Default false. */
  fifo?: boolean;
  /** Deliveries before a message goes to the DLQ. Default 5. */
  maxReceiveCount?: number;
  /** Records per invocation. Default 10. */
  batchSize?: number;
  /** Most concurrent invocations the queue may drive. Default 20. */
  maxConcurrency?: number;
  /** Warm instances kept ready (provisioned concurrency on the live alias). Default 2. */
  provisionedConcurrency?: number;
  /** Lambda timeout. Default 5 minutes (measurements can be long). */
  timeout?: Duration;
  /** Log retention. Default one month. */
  logRetention?: logs.RetentionDays;
  /** Alarm when the dispatcher's p99 lateness exceeds this. Default 1000 ms. */
  latenessAlarmMs?: number;
  /** Alarm when this many measurements fail within 5 minutes. Default 5. */
  measurementFailureAlarmCount?: number;
  /** Optional e-mail address for alarm notifications. */
  alarmEmail?: string;
  /**
   * Run the Lambda in a VPC, to reach an API that is internal (an internal ALB or ingress). Omit when
   * the API URL is reachable from the internet.
   */
  network?: ExecutorNetworkProps;
  /**
   * Days after which raw data (raw/…) expires, and noncurrent versions one day after they are replaced
   * or deleted: the bucket's half of the backend's `labScheduler.retention.keepFinishedRunsFor` (set
   * both to the same number of days, e.g. 90 here and `90d` there). S3 counts from the upload, and cannot keep "the last K runs per task"
   * older than that. Default: raw data is kept for ever.
   */
  rawDataRetentionDays?: number;
  /**
   * The instruments the Lambda measures through an HTTP instrument gateway (its INSTRUMENT_GATEWAYS).
   * Runs on any other instrument fail with NoInstrumentDriverError unless simulatedInstrumentsAllowed.
   */
  instrumentGateways?: Array<{
    instrumentRef: string;
    endpoint: string;
    timeoutMs?: number;
    maxResponseBytes?: number;
  }>;
  /** Measure instruments without a gateway with simulated data (demos only). Default false. */
  simulatedInstrumentsAllowed?: boolean;
}

/**
 * Queue, dead-letter queue, the measurement Lambda (warm, behind an alias), raw-data bucket, the service
 * token secret, least-privilege IAM, and the CloudWatch alarms and dashboard around them.
 */
export class LabSchedulerStack extends Stack {
  readonly queue: sqs.Queue;
  readonly deadLetterQueue: sqs.Queue;
  readonly function: lambda.Function;
  readonly alias: lambda.Alias;
  readonly rawDataBucket: s3.Bucket;
  readonly serviceToken: secretsmanager.Secret;

  constructor(scope: Construct, id: string, props: LabSchedulerStackProps) {
    super(scope, id, props);
    const fifo = props.fifo ?? false;
    const maxReceiveCount = props.maxReceiveCount ?? 5;
    const timeout = props.timeout ?? Duration.minutes(5);

    this.deadLetterQueue = new sqs.Queue(this, 'RunsDeadLetterQueue', {
      fifo: fifo || undefined,
      retentionPeriod: Duration.days(14),
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
    });
    this.queue = new sqs.Queue(this, 'RunsQueue', {
      fifo: fifo || undefined,
      contentBasedDeduplication: fifo ? false : undefined,
      // Lambda's guidance: at least six times the function timeout.
      visibilityTimeout: Duration.seconds(timeout.toSeconds() * 6),
      retentionPeriod: Duration.days(4),
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount },
    });

    this.rawDataBucket = new s3.Bucket(this, 'RawDataBucket', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      versioned: true,
      removalPolicy: RemovalPolicy.RETAIN,
      lifecycleRules: [
        ...(props.rawDataRetentionDays
          ? [
              {
                id: 'RawDataRetention',
                prefix: 'raw/',
                expiration: Duration.days(props.rawDataRetentionDays),
                noncurrentVersionExpiration: Duration.days(1),
              },
            ]
          : []),
        {
          transitions: [
            {
              storageClass: s3.StorageClass.INTELLIGENT_TIERING,
              transitionAfter: Duration.days(30),
            },
          ],
        },
      ],
    });

    this.serviceToken = new secretsmanager.Secret(this, 'ServiceToken', {
      description:
        'Static token the Lab Scheduler backend accepts from the measurement Lambda (backend.auth.externalAccess)',
      generateSecretString: { passwordLength: 48, excludePunctuation: true },
    });

    const logGroup = new logs.LogGroup(this, 'ExecutorLogs', {
      retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.RETAIN,
    });

    this.function = new lambda.Function(this, 'Executor', {
      description: 'Lab Scheduler measurement executor',
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: lambda.Architecture.ARM_64,
      handler: 'handler.handler',
      code: lambda.Code.fromAsset(props.codePath),
      memorySize: 1024,
      timeout,
      logGroup,
      loggingFormat: lambda.LoggingFormat.JSON,
      environment: {
        LAB_SCHEDULER_API_URL: props.apiUrl,
        LAB_SCHEDULER_SERVICE_TOKEN_SECRET_ARN: this.serviceToken.secretArn,
        RAW_DATA_BUCKET: this.rawDataBucket.bucketName,
        RAW_DATA_PREFIX: 'raw/',
        MAX_RECEIVE_COUNT: String(maxReceiveCount),
        QUEUE_URL: this.queue.queueUrl,
        RETRY_BASE_SECONDS: '10',
        RETRY_MAX_SECONDS: String(Math.min(900, timeout.toSeconds() * 6)),
        POWERTOOLS_SERVICE_NAME: EXECUTOR_SERVICE_NAME,
        POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
        NODE_OPTIONS: '--enable-source-maps',
        INSTRUMENT_GATEWAYS: JSON.stringify(props.instrumentGateways ?? []),
        SIMULATED_INSTRUMENTS_ALLOWED: String(
          props.simulatedInstrumentsAllowed ?? false,
        ),
      },
      ...(props.network
        ? executorNetwork(this, props.network, props.apiUrl)
        : {}),
    });
    // Least privilege: write raw data under raw/, read its own secret; queue access comes with the
    // event source mapping (receive/delete/change visibility on this queue only).
    this.rawDataBucket.grantPut(this.function, 'raw/*');
    this.serviceToken.grantRead(this.function);

    this.alias = new lambda.Alias(this, 'Live', {
      aliasName: 'live',
      version: this.function.currentVersion,
      provisionedConcurrentExecutions: props.provisionedConcurrency ?? 2,
    });
    this.alias.addEventSource(
      new sources.SqsEventSource(this.queue, {
        batchSize: props.batchSize ?? 10,
        maxConcurrency: props.maxConcurrency ?? 20,
        reportBatchItemFailures: true,
        ...(fifo ? {} : { maxBatchingWindow: Duration.seconds(0) }),
      }),
    );

    // Alarms
    const topic = new sns.Topic(this, 'Alarms', {
      displayName: 'Lab Scheduler alarms',
    });
    if (props.alarmEmail) {
      new sns.Subscription(this, 'AlarmMail', {
        topic,
        protocol: sns.SubscriptionProtocol.EMAIL,
        endpoint: props.alarmEmail,
      });
    }
    // Names and dimension sets come from the module the emitters use; each metric here is queried
    // with exactly one of the dimension sets it is emitted with (metrics.contract.test.ts checks it).
    const dispatchMetric = (
      definition: MetricDefinition,
      statistic: string,
      period = Duration.minutes(1),
    ) =>
      new cloudwatch.Metric({
        namespace: METRICS_NAMESPACE,
        metricName: definition.name,
        statistic,
        period,
      });
    const executorMetric = (definition: MetricDefinition) =>
      new cloudwatch.Metric({
        namespace: METRICS_NAMESPACE,
        metricName: definition.name,
        dimensionsMap: { service: EXECUTOR_SERVICE_NAME },
        statistic: 'Sum',
        period: Duration.minutes(5),
      });
    const latenessP99 = dispatchMetric(DISPATCH_METRICS.lateness, 'p99');
    const backlog = dispatchMetric(DISPATCH_METRICS.backlog, 'Maximum');
    const heartbeat = dispatchMetric(DISPATCH_METRICS.heartbeat, 'Sum');
    const publishFailed = dispatchMetric(DISPATCH_METRICS.publishFailed, 'Sum');
    const publishRejected = dispatchMetric(
      DISPATCH_METRICS.publishRejected,
      'Sum',
    );
    // Every alarm notifies the topic; "above" alarms fire past the threshold, the others at it.
    const {
      GREATER_THAN_THRESHOLD: ABOVE,
      GREATER_THAN_OR_EQUAL_TO_THRESHOLD: AT_LEAST,
      LESS_THAN_THRESHOLD: BELOW,
    } = cloudwatch.ComparisonOperator;
    const { NOT_BREACHING, BREACHING } = cloudwatch.TreatMissingData;
    const alarm = (
      alarmId: string,
      alarmDescription: string,
      metric: cloudwatch.IMetric,
      threshold: number,
      evaluationPeriods: number,
      comparisonOperator: cloudwatch.ComparisonOperator,
      treatMissingData: cloudwatch.TreatMissingData,
    ) =>
      new cloudwatch.Alarm(this, alarmId, {
        alarmDescription,
        metric,
        threshold,
        evaluationPeriods,
        comparisonOperator,
        treatMissingData,
      }).addAlarmAction(new cwActions.SnsAction(topic));
    const minute = { period: Duration.minutes(1) };
    const fiveMinutes = { period: Duration.minutes(5) };
    // SQS stops reporting an empty queue that nothing touches: no data means empty.
    alarm(
      'DeadLetterQueueNotEmpty',
      'Runs ended in the dead-letter queue: see the runbook (redrive)',
      this.deadLetterQueue.metricApproximateNumberOfMessagesVisible(minute),
      0,
      1,
      ABOVE,
      NOT_BREACHING,
    );
    alarm(
      'OldestMessageAge',
      'Runs wait in the queue: the executor is not keeping up',
      this.queue.metricApproximateAgeOfOldestMessage(minute),
      120,
      3,
      AT_LEAST,
      NOT_BREACHING,
    );
    // Lambda reports nothing for a minute without invocations: no data means no errors.
    alarm(
      'ExecutorErrors',
      'The measurement Lambda failed invocations',
      this.function.metricErrors(fiveMinutes),
      0,
      1,
      ABOVE,
      NOT_BREACHING,
    );
    alarm(
      'ExecutorThrottles',
      'The measurement Lambda was throttled',
      this.function.metricThrottles(fiveMinutes),
      0,
      1,
      ABOVE,
      NOT_BREACHING,
    );
    // Record failures do not count as Lambda errors (they go to batchItemFailures): this is the
    // executor's own count. Instrument faults retry, so only a run of them alarms.
    alarm(
      'MeasurementsFailing',
      'Measurements fail repeatedly (instrument faults, reporting errors): see the executor logs',
      executorMetric(EXECUTOR_METRICS.failed),
      props.measurementFailureAlarmCount ?? 5,
      1,
      AT_LEAST,
      NOT_BREACHING,
    );
    // No runs published means no lateness: a dead dispatcher is the heartbeat alarm's job.
    alarm(
      'DispatchLateness',
      'Runs are published late (p99 dispatch lateness)',
      latenessP99,
      props.latenessAlarmMs ?? 1000,
      3,
      AT_LEAST,
      NOT_BREACHING,
    );
    // The only alarm where silence is the failure: every running dispatcher adds 1 per loop round
    // (at least one per poll interval, 5 s by default), summed over all replicas.
    alarm(
      'DispatcherDown',
      'No dispatcher loop ran for 3 minutes: no run is being published (all replicas dead, stuck or disabled)',
      heartbeat,
      1,
      3,
      BELOW,
      BREACHING,
    );
    // The dispatcher adds 0 to these every round, so a running dispatcher sends data; while none
    // runs, DispatcherDown alarms instead.
    alarm(
      'PublishFailing',
      'Publishing to the queue has failed for 3 minutes (runs are retried with backoff)',
      publishFailed,
      0,
      3,
      ABOVE,
      NOT_BREACHING,
    );
    alarm(
      'PublishRejected',
      'The queue refused run messages for good: those runs failed',
      publishRejected,
      0,
      1,
      ABOVE,
      NOT_BREACHING,
    );

    new cloudwatch.Dashboard(this, 'Dashboard', {
      dashboardName: `${this.stackName}-lab-scheduler`,
      widgets: [
        [
          new cloudwatch.GraphWidget({
            title: 'Dispatch lateness p50/p99 (ms)',
            left: [latenessP99.with({ statistic: 'p50' }), latenessP99],
          }),
          new cloudwatch.GraphWidget({ title: 'Due backlog', left: [backlog] }),
          new cloudwatch.GraphWidget({
            title: 'Dispatcher (per minute)',
            left: [
              heartbeat,
              dispatchMetric(DISPATCH_METRICS.claimed, 'Sum'),
              dispatchMetric(DISPATCH_METRICS.published, 'Sum'),
            ],
            right: [
              publishFailed,
              publishRejected,
              dispatchMetric(DISPATCH_METRICS.recovered, 'Sum'),
              dispatchMetric(DISPATCH_METRICS.skipped, 'Sum'),
            ],
          }),
          new cloudwatch.GraphWidget({
            title: 'Queue',
            left: [
              this.queue.metricApproximateNumberOfMessagesVisible(),
              this.deadLetterQueue.metricApproximateNumberOfMessagesVisible(),
            ],
            right: [this.queue.metricApproximateAgeOfOldestMessage()],
          }),
        ],
        [
          new cloudwatch.GraphWidget({
            title: 'Executor',
            left: [
              this.function.metricInvocations(),
              this.function.metricErrors(),
              this.function.metricThrottles(),
            ],
            right: [this.function.metricDuration({ statistic: 'p99' })],
          }),
          new cloudwatch.GraphWidget({
            title: 'Measurements',
            left: [
              EXECUTOR_METRICS.succeeded,
              EXECUTOR_METRICS.failed,
              EXECUTOR_METRICS.qcFailed,
              EXECUTOR_METRICS.duplicateDelivery,
            ].map(executorMetric),
          }),
        ],
      ],
    });

    new CfnOutput(this, 'QueueUrl', {
      value: this.queue.queueUrl,
      description: 'labScheduler.queue.sqs.queueUrl',
    });
    new CfnOutput(this, 'DeadLetterQueueUrl', {
      value: this.deadLetterQueue.queueUrl,
    });
    new CfnOutput(this, 'ServiceTokenSecretArn', {
      value: this.serviceToken.secretArn,
      description: 'Put this token in backend.auth.externalAccess',
    });
    new CfnOutput(this, 'RawDataBucketName', {
      value: this.rawDataBucket.bucketName,
    });
  }
}
