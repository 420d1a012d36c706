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
import { Construct } from 'constructs';

/** Settings of the measurement stack; all but `apiUrl` have production-minded defaults. */
export interface LabSchedulerStackProps extends StackProps {
  /** The plugin's API base the Lambda reports to, e.g. https://portal.example.com/api/lab-scheduler */
  apiUrl: string;
  /** Path of the built dist/lambda.zip. */
  codePath: string;
  /** FIFO queue: per-instrument ordering and SQS-side deduplication by run id. Default false. */
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
  /** Optional e-mail address for alarm notifications. */
  alarmEmail?: string;
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
        POWERTOOLS_SERVICE_NAME: 'lab-scheduler-executor',
        POWERTOOLS_METRICS_NAMESPACE: 'LabScheduler',
        NODE_OPTIONS: '--enable-source-maps',
      },
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
    const latenessP99 = new cloudwatch.Metric({
      namespace: 'LabScheduler',
      metricName: 'lab_scheduler.dispatch.lateness',
      statistic: 'p99',
      period: Duration.minutes(1),
    });
    const backlog = new cloudwatch.Metric({
      namespace: 'LabScheduler',
      metricName: 'lab_scheduler.dispatch.backlog',
      statistic: 'Maximum',
      period: Duration.minutes(1),
    });
    // Every alarm notifies the topic; "above" alarms fire past the threshold, the others at it.
    const {
      GREATER_THAN_THRESHOLD: ABOVE,
      GREATER_THAN_OR_EQUAL_TO_THRESHOLD: AT_LEAST,
    } = cloudwatch.ComparisonOperator;
    const alarm = (
      alarmId: string,
      alarmDescription: string,
      metric: cloudwatch.IMetric,
      threshold: number,
      evaluationPeriods: number,
      comparisonOperator: cloudwatch.ComparisonOperator,
    ) =>
      new cloudwatch.Alarm(this, alarmId, {
        alarmDescription,
        metric,
        threshold,
        evaluationPeriods,
        comparisonOperator,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }).addAlarmAction(new cwActions.SnsAction(topic));
    const minute = { period: Duration.minutes(1) };
    const fiveMinutes = { period: Duration.minutes(5) };
    alarm(
      'DeadLetterQueueNotEmpty',
      'Runs ended in the dead-letter queue: see the runbook (redrive)',
      this.deadLetterQueue.metricApproximateNumberOfMessagesVisible(minute),
      0,
      1,
      ABOVE,
    );
    alarm(
      'OldestMessageAge',
      'Runs wait in the queue: the executor is not keeping up',
      this.queue.metricApproximateAgeOfOldestMessage(minute),
      120,
      3,
      AT_LEAST,
    );
    alarm(
      'ExecutorErrors',
      'The measurement Lambda failed invocations',
      this.function.metricErrors(fiveMinutes),
      0,
      1,
      ABOVE,
    );
    alarm(
      'ExecutorThrottles',
      'The measurement Lambda was throttled',
      this.function.metricThrottles(fiveMinutes),
      0,
      1,
      ABOVE,
    );
    alarm(
      'DispatchLateness',
      'Runs are published late (p99 dispatch lateness)',
      latenessP99,
      props.latenessAlarmMs ?? 1000,
      3,
      AT_LEAST,
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
              'MeasurementSucceeded',
              'MeasurementFailed',
              'QcFailed',
              'DuplicateDelivery',
            ].map(
              metricName =>
                new cloudwatch.Metric({
                  namespace: 'LabScheduler',
                  metricName,
                  dimensionsMap: { service: 'lab-scheduler-executor' },
                  statistic: 'Sum',
                }),
            ),
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
