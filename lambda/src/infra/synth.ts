/*
 * The CDK app: `npm run build --workspace lambda && npm run synth --workspace lambda` writes
 * CloudFormation to lambda/cdk.out (offline). Deploy with the AWS CDK CLI:
 * `npx cdk deploy --app cdk.out` (see the plugin README).
 * Context (-c key=value or env): apiUrl, fifo, maxReceiveCount, provisionedConcurrency, alarmEmail,
 * rawDataRetentionDays (raw data expires after that many days; default never), instrumentGateways (JSON,
 * the Lambda's INSTRUMENT_GATEWAYS) and simulatedInstrumentsAllowed (true: simulate the other instruments),
 * backendDomain and appDistPath (frontend hosting); for an internal API the Lambda's VPC: vpcId, vpcCidr,
 * vpcAvailabilityZones, vpcPrivateSubnetIds (comma-separated) or newVpcCidr, and apiSecurityGroupId
 * (environment: LAB_SCHEDULER_ + the key in upper snake case, e.g. LAB_SCHEDULER_VPC_PRIVATE_SUBNET_IDS).
 */
import { App } from 'aws-cdk-lib';
import { dirname, join } from 'node:path';
import { FrontendHostingStack } from './FrontendHostingStack';
import { LabSchedulerStack } from './LabSchedulerStack';
import { networkFromSettings } from './executorNetwork';

const packageDir = dirname(
  require.resolve('lab-scheduler-lambda/package.json'),
);
const app = new App({ outdir: join(packageDir, 'cdk.out') });
const ctx = (key: string, env: string) =>
  app.node.tryGetContext(key) ?? process.env[env];

new LabSchedulerStack(app, 'LabScheduler', {
  apiUrl:
    ctx('apiUrl', 'LAB_SCHEDULER_API_URL') ??
    'https://portal.example.com/api/lab-scheduler',
  codePath: join(packageDir, 'dist/lambda.zip'),
  fifo: String(ctx('fifo', 'LAB_SCHEDULER_FIFO') ?? 'false') === 'true',
  maxReceiveCount: Number(
    ctx('maxReceiveCount', 'LAB_SCHEDULER_MAX_RECEIVE_COUNT') ?? 5,
  ),
  provisionedConcurrency: Number(
    ctx('provisionedConcurrency', 'LAB_SCHEDULER_PROVISIONED_CONCURRENCY') ?? 2,
  ),
  alarmEmail: ctx('alarmEmail', 'LAB_SCHEDULER_ALARM_EMAIL'),
  rawDataRetentionDays:
    Number(
      ctx('rawDataRetentionDays', 'LAB_SCHEDULER_RAW_DATA_RETENTION_DAYS'),
    ) || undefined,
  // JSON [{ instrumentRef, endpoint, timeoutMs?, maxResponseBytes? }]: without it (and without
  // simulatedInstrumentsAllowed) every run fails with NoInstrumentDriverError.
  instrumentGateways: JSON.parse(
    ctx('instrumentGateways', 'LAB_SCHEDULER_INSTRUMENT_GATEWAYS') ?? '[]',
  ),
  simulatedInstrumentsAllowed:
    String(
      ctx(
        'simulatedInstrumentsAllowed',
        'LAB_SCHEDULER_SIMULATED_INSTRUMENTS_ALLOWED',
      ) ?? 'false',
    ) === 'true',
  network: networkFromSettings(key =>
    ctx(
      key,
      `LAB_SCHEDULER_${key.replace(/[A-Z]/g, c => `_${c}`).toUpperCase()}`,
    ),
  ),
});

// Optional: the frontend bundle on S3 + CloudFront (context backendDomain=… and appDistPath=…).
const backendDomain = ctx('backendDomain', 'LAB_SCHEDULER_BACKEND_DOMAIN');
if (backendDomain) {
  new FrontendHostingStack(app, 'LabPortalFrontend', {
    backendDomain,
    appDistPath: ctx('appDistPath', 'LAB_SCHEDULER_APP_DIST'),
  });
}

app.synth();
