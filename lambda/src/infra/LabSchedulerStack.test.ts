import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import {
  DISPATCH_METRICS,
  EXECUTOR_METRICS,
  EXECUTOR_SERVICE_NAME,
  METRICS_NAMESPACE,
} from '@lab-scheduler/plugin-lab-scheduler-common';
import { LabSchedulerStack } from './LabSchedulerStack';

jest.setTimeout(120_000);

const root = resolve(__dirname, '../..');

function synth(
  props: Partial<ConstructorParameters<typeof LabSchedulerStack>[2]> = {},
) {
  const app = new App();
  const stack = new LabSchedulerStack(app, 'Test', {
    apiUrl: 'https://portal.example.com/api/lab-scheduler',
    codePath: join(root, 'dist/lambda.zip'),
    ...props,
  });
  return Template.fromStack(stack);
}

describe('LabSchedulerStack (cdk synth, offline)', () => {
  it('simulates no instrument unless told: gateways and the simulation switch reach the Lambda', () => {
    synth().hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({
          INSTRUMENT_GATEWAYS: '[]',
          SIMULATED_INSTRUMENTS_ALLOWED: 'false',
        }),
      },
    });
    const gateways = [
      {
        instrumentRef: 'resource:default/plate-reader-1',
        endpoint: 'https://gateway.lab.example.com/plate-reader-1',
      },
    ];
    synth({
      instrumentGateways: gateways,
      simulatedInstrumentsAllowed: true,
    }).hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({
          INSTRUMENT_GATEWAYS: JSON.stringify(gateways),
          SIMULATED_INSTRUMENTS_ALLOWED: 'true',
        }),
      },
    });
  });

  beforeAll(() => {
    if (!existsSync(join(root, 'dist/lambda.zip'))) {
      execFileSync(process.execPath, [join(root, 'scripts/build.mjs')], {
        cwd: root,
        stdio: 'pipe',
      });
    }
  });

  it('has a queue with a dead-letter queue and redrive', () => {
    const t = synth({ maxReceiveCount: 4 });
    t.resourceCountIs('AWS::SQS::Queue', 2);
    t.hasResourceProperties('AWS::SQS::Queue', {
      RedrivePolicy: {
        deadLetterTargetArn: Match.anyValue(),
        maxReceiveCount: 4,
      },
      VisibilityTimeout: 1800,
    });
  });

  it('offers a FIFO variant', () => {
    const t = synth({ fifo: true });
    t.hasResourceProperties('AWS::SQS::Queue', {
      FifoQueue: true,
      ContentBasedDeduplication: false,
    });
  });

  it('runs the executor on Node 22 behind a warm alias fed by SQS with partial batch failures', () => {
    const t = synth({
      provisionedConcurrency: 3,
      batchSize: 5,
      maxConcurrency: 7,
    });
    t.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs22.x',
      Handler: 'handler.handler',
      Environment: {
        Variables: Match.objectLike({
          MAX_RECEIVE_COUNT: '5',
          LAB_SCHEDULER_API_URL: 'https://portal.example.com/api/lab-scheduler',
        }),
      },
    });
    t.hasResourceProperties('AWS::Lambda::Alias', {
      Name: 'live',
      ProvisionedConcurrencyConfig: { ProvisionedConcurrentExecutions: 3 },
    });
    t.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      BatchSize: 5,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      ScalingConfig: { MaximumConcurrency: 7 },
    });
    // The mapping invokes the warm alias, not $LATEST.
    const [mapping] = Object.values(
      t.findResources('AWS::Lambda::EventSourceMapping'),
    ) as any[];
    expect(JSON.stringify(mapping.Properties.FunctionName)).toContain(':live');
  });

  it('stores raw data in a private, encrypted bucket and the token in Secrets Manager', () => {
    const t = synth();
    t.hasResourceProperties('AWS::S3::Bucket', {
      BucketEncryption: Match.anyValue(),
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
    });
    t.resourceCountIs('AWS::SecretsManager::Secret', 1);
    t.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 30 });
  });

  it('grants the function only what it needs', () => {
    const t = synth();
    const policies = t.findResources('AWS::IAM::Policy');
    const actions = Object.values(policies).flatMap((p: any) =>
      p.Properties.PolicyDocument.Statement.flatMap((s: any) =>
        [s.Action].flat(),
      ),
    );
    expect(
      actions.every(
        (a: string) =>
          !a.endsWith('*') ||
          a.startsWith('s3:PutObject') ||
          a.startsWith('s3:Abort'),
      ),
    ).toBe(true);
    expect(actions).toEqual(
      expect.arrayContaining([
        'sqs:ReceiveMessage',
        'sqs:DeleteMessage',
        'secretsmanager:GetSecretValue',
      ]),
    );
    expect(actions).not.toContain('s3:GetObject');
    expect(actions).not.toContain('sqs:SendMessage');
  });

  it('alarms on the DLQ, message age, errors, throttles, failing measurements and dispatch lateness, with a dashboard', () => {
    const t = synth();
    t.resourceCountIs('AWS::CloudWatch::Alarm', 9);
    t.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Threshold: 0,
      TreatMissingData: 'notBreaching',
    });
    t.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ApproximateAgeOfOldestMessage',
      Namespace: 'AWS/SQS',
    });
    t.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'Errors' });
    t.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'Throttles',
    });
    t.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: EXECUTOR_METRICS.failed.name,
      Namespace: METRICS_NAMESPACE,
      Dimensions: [{ Name: 'service', Value: EXECUTOR_SERVICE_NAME }],
      Statistic: 'Sum',
    });
    // The aggregate lateness (no dimensions: the [] set the dispatcher emits), as a percentile.
    t.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: DISPATCH_METRICS.lateness.name,
      Namespace: METRICS_NAMESPACE,
      ExtendedStatistic: 'p99',
      Dimensions: Match.absent(),
      TreatMissingData: 'notBreaching',
    });
    t.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
  });

  it('alarms when no dispatcher runs: missing heartbeats breach', () => {
    const t = synth();
    t.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: DISPATCH_METRICS.heartbeat.name,
      Namespace: METRICS_NAMESPACE,
      Statistic: 'Sum',
      Period: 60,
      Threshold: 1,
      ComparisonOperator: 'LessThanThreshold',
      EvaluationPeriods: 3,
      TreatMissingData: 'breaching',
    });
    // It is the only one: elsewhere no data means nothing happened.
    const breaching = Object.values(
      t.findResources('AWS::CloudWatch::Alarm'),
    ).filter((a: any) => a.Properties.TreatMissingData === 'breaching');
    expect(breaching).toHaveLength(1);
  });

  it('alarms on publish failures and on messages the queue refused for good', () => {
    const t = synth();
    t.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: DISPATCH_METRICS.publishFailed.name,
      Namespace: METRICS_NAMESPACE,
      Statistic: 'Sum',
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
      EvaluationPeriods: 3,
    });
    t.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: DISPATCH_METRICS.publishRejected.name,
      Namespace: METRICS_NAMESPACE,
      Statistic: 'Sum',
      Threshold: 0,
      EvaluationPeriods: 1,
    });
  });
});
