import {
  GetSecretValueCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { S3Client } from '@aws-sdk/client-s3';
import {
  builtInDriverFactories,
  builtInMeasurementTypes,
  cachedServiceToken,
  createDriverRegistry,
  createMeasurementTypeRegistry,
  DriverRegistry,
  HttpRunReporter,
  instrumentConfigsFromJson,
  LocalRawDataStore,
  RawDataStore,
  S3RawDataStore,
  MeasurementTypeRegistry,
  ServiceTokenProvider,
  SimulatedInstrumentDriver,
} from '@lab-scheduler/plugin-lab-scheduler-node';
import { LAMBDA_MODULES, LambdaModules } from './modules';

/**
 * The Lambda's settings, from its environment (set by the CDK stack):
 * - LAB_SCHEDULER_API_URL: the plugin's API base, e.g. https://portal.example.com/api/lab-scheduler
 * - LAB_SCHEDULER_SERVICE_TOKEN_SECRET_ARN (Secrets Manager) or LAB_SCHEDULER_SERVICE_TOKEN: the static
 *   token the backend accepts (backend.auth.externalAccess)
 * - LAB_SCHEDULER_SERVICE_TOKEN_TTL_SECONDS (300): how long a container keeps the secret's value before
 *   reading it again (a 401 from the backend also makes it read again)
 * - RAW_DATA_BUCKET (+ RAW_DATA_PREFIX): S3 bucket for raw data; RAW_DATA_DIRECTORY for a local folder
 * - MAX_RECEIVE_COUNT: the queue's redrive maxReceiveCount (the last attempt reports dead-lettered)
 * - SIMULATED_INSTRUMENTS_ALLOWED (false): measure instruments without a gateway with the simulated
 *   driver (fake data); otherwise their runs fail with NoInstrumentDriverError
 * - SIMULATED_FAULT_RATE, SIMULATED_DELAY_MS: the simulated driver
 * - INSTRUMENT_GATEWAYS: JSON [{ instrumentRef, driver? (http), endpoint, token?, timeoutMs?,
 *   maxResponseBytes? }] for real instruments: the entries of the backend's labScheduler.execution.instruments
 * - QUEUE_URL, RETRY_BASE_SECONDS (10), RETRY_MAX_SECONDS (900): exponential backoff between retries
 * - AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL_SQS: custom endpoints (tests)
 */
export interface LambdaSettings {
  apiUrl: string;
  token: ServiceTokenProvider;
  maxReceiveCount: number;
  rawData: RawDataStore;
  drivers: DriverRegistry;
  /** Processing, QC and simulation per measurement type: the built-in ones and LAMBDA_MODULES'. */
  measurementTypes: MeasurementTypeRegistry;
}

/** The current value of the token secret in Secrets Manager. */
export function secretsManagerReader(
  secretId: string,
  client: Pick<SecretsManagerClient, 'send'> = new SecretsManagerClient({}),
) {
  return async () => {
    const secret = await client.send(
      new GetSecretValueCommand({ SecretId: secretId }),
    );
    if (!secret.SecretString?.trim())
      throw new Error('The service token secret is empty');
    return secret.SecretString.trim();
  };
}

/**
 * The token from Secrets Manager, cached per container for LAB_SCHEDULER_SERVICE_TOKEN_TTL_SECONDS: the
 * provisioned containers of the `live` alias live for hours, so a value read once at cold start would
 * outlast a rotation. `readSecret` replaces the Secrets Manager read (tests).
 */
export function serviceTokenProvider(
  env: NodeJS.ProcessEnv,
  readSecret?: (secretId: string) => () => Promise<string>,
): ServiceTokenProvider {
  const secretId = env.LAB_SCHEDULER_SERVICE_TOKEN_SECRET_ARN;
  if (secretId) {
    const ttlSeconds = Number(
      env.LAB_SCHEDULER_SERVICE_TOKEN_TTL_SECONDS ?? 300,
    );
    if (!Number.isFinite(ttlSeconds) || ttlSeconds < 0)
      throw new Error(
        'LAB_SCHEDULER_SERVICE_TOKEN_TTL_SECONDS must be a number of seconds (≥ 0)',
      );
    return cachedServiceToken((readSecret ?? secretsManagerReader)(secretId), {
      ttlMs: ttlSeconds * 1000,
    });
  }
  const fixed = env.LAB_SCHEDULER_SERVICE_TOKEN;
  if (fixed) return async () => fixed;
  throw new Error(
    'Set LAB_SCHEDULER_SERVICE_TOKEN_SECRET_ARN or LAB_SCHEDULER_SERVICE_TOKEN',
  );
}

export async function settingsFromEnv(
  env: NodeJS.ProcessEnv = process.env,
  modules: LambdaModules = LAMBDA_MODULES,
): Promise<LambdaSettings> {
  const apiUrl = env.LAB_SCHEDULER_API_URL;
  if (!apiUrl) throw new Error('LAB_SCHEDULER_API_URL is required');
  let rawData: RawDataStore;
  if (env.RAW_DATA_BUCKET) {
    const endpoint = env.AWS_ENDPOINT_URL_S3;
    rawData = new S3RawDataStore({
      bucket: env.RAW_DATA_BUCKET,
      prefix: env.RAW_DATA_PREFIX ?? '',
      client: new S3Client(endpoint ? { endpoint, forcePathStyle: true } : {}),
    });
  } else if (env.RAW_DATA_DIRECTORY) {
    rawData = new LocalRawDataStore(env.RAW_DATA_DIRECTORY);
  } else {
    throw new Error('Set RAW_DATA_BUCKET (or RAW_DATA_DIRECTORY outside AWS)');
  }
  // The backend's registries, from the same objects its modules register.
  const measurementTypes = createMeasurementTypeRegistry(
    builtInMeasurementTypes,
    modules.measurementTypes,
  );
  const simulated = new SimulatedInstrumentDriver({
    measurementTypes,
    faultRate: Number(env.SIMULATED_FAULT_RATE ?? 0),
    delayMs: Number(env.SIMULATED_DELAY_MS ?? 0),
  });
  // The same factories (the http gateway driver from its module package) and entry keys as
  // labScheduler.execution.instruments.
  const drivers = createDriverRegistry({
    factories: [
      ...builtInDriverFactories(simulated),
      ...modules.driverFactories,
    ],
    instruments: instrumentConfigsFromJson(
      JSON.parse(env.INSTRUMENT_GATEWAYS ?? '[]'),
      'INSTRUMENT_GATEWAYS',
    ),
    fallback:
      env.SIMULATED_INSTRUMENTS_ALLOWED === 'true' ? simulated : undefined,
  });
  return {
    apiUrl,
    token: serviceTokenProvider(env),
    maxReceiveCount: Number(env.MAX_RECEIVE_COUNT ?? 3),
    rawData,
    drivers,
    measurementTypes,
  };
}

export function reporterFor(settings: LambdaSettings) {
  return new HttpRunReporter({
    baseUrl: settings.apiUrl,
    token: settings.token,
  });
}
