import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { createServer } from 'node:http';
import { AddressInfo } from 'node:net';
import {
  reporterFor,
  secretsManagerReader,
  serviceTokenProvider,
} from './config';

/** The backend's run-event route, accepting whichever static tokens `accepted` holds. */
async function startApi(accepted: Set<string>) {
  const tokens: string[] = [];
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const token = String(req.headers.authorization).replace(/^Bearer /, '');
      tokens.push(token);
      const ok = accepted.has(token);
      res.writeHead(ok ? 200 : 401, { 'Content-Type': 'application/json' });
      res.end(ok ? '{"proceed":true,"status":"running"}' : '{}');
    });
  });
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
  return {
    apiUrl: `http://127.0.0.1:${
      (server.address() as AddressInfo).port
    }/api/lab-scheduler`,
    tokens,
    close: () => new Promise(resolve => server.close(resolve)),
  };
}

describe('the Lambda service token', () => {
  const secretArn =
    'arn:aws:secretsmanager:eu-central-1:123456789012:secret:ServiceToken-abc';

  it('keeps working in a warm container across a rotation of the secret', async () => {
    const accepted = new Set(['old']);
    const api = await startApi(accepted);
    const secret = { value: 'old', reads: [] as string[] };
    try {
      const reporter = reporterFor({
        apiUrl: api.apiUrl,
        token: serviceTokenProvider(
          { LAB_SCHEDULER_SERVICE_TOKEN_SECRET_ARN: secretArn },
          id => async () => {
            secret.reads.push(id);
            return secret.value;
          },
        ),
      } as any);
      await reporter.start('run-1', 1);

      // The runbook's rotation: overlap (both accepted), new secret value, then the old one removed —
      // before the container's TTL ran out.
      accepted.add('new');
      secret.value = 'new';
      accepted.delete('old');
      await expect(reporter.start('run-2', 1)).resolves.toMatchObject({
        proceed: true,
      });
      expect(api.tokens).toEqual(['old', 'old', 'new']);
      expect(secret.reads).toEqual([secretArn, secretArn]);
    } finally {
      await api.close();
    }
  });

  it('reads the TTL from the environment', async () => {
    let reads = 0;
    const token = serviceTokenProvider(
      {
        LAB_SCHEDULER_SERVICE_TOKEN_SECRET_ARN: secretArn,
        LAB_SCHEDULER_SERVICE_TOKEN_TTL_SECONDS: '0',
      },
      () => async () => `value-${++reads}`,
    );
    expect(await token()).toBe('value-1');
    expect(await token()).toBe('value-2');
    expect(() =>
      serviceTokenProvider(
        {
          LAB_SCHEDULER_SERVICE_TOKEN_SECRET_ARN: secretArn,
          LAB_SCHEDULER_SERVICE_TOKEN_TTL_SECONDS: 'five minutes',
        },
        () => async () => 'x',
      ),
    ).toThrow(/LAB_SCHEDULER_SERVICE_TOKEN_TTL_SECONDS/);
  });

  it('takes a fixed token from the environment outside AWS', async () => {
    const token = serviceTokenProvider({ LAB_SCHEDULER_SERVICE_TOKEN: 'dev' });
    expect(await token()).toBe('dev');
    expect(await token({ rejected: 'dev' })).toBe('dev');
    expect(() => serviceTokenProvider({})).toThrow(
      /LAB_SCHEDULER_SERVICE_TOKEN_SECRET_ARN/,
    );
  });

  it('asks Secrets Manager for the secret by its ARN and refuses an empty value', async () => {
    const sent: any[] = [];
    let answer: string | undefined = '  token-from-secret\n';
    const client = {
      send: async (command: any) => {
        sent.push(command);
        return { SecretString: answer };
      },
    } as any;
    await expect(secretsManagerReader(secretArn, client)()).resolves.toBe(
      'token-from-secret',
    );
    expect(sent[0]).toBeInstanceOf(GetSecretValueCommand);
    expect(sent[0].input).toEqual({ SecretId: secretArn });
    answer = ' ';
    await expect(secretsManagerReader(secretArn, client)()).rejects.toThrow(
      /empty/,
    );
  });
});
