import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { HttpRunReporter } from './RunReporter';
import { cachedServiceToken } from './serviceToken';

/**
 * A stand-in for the backend's run-event route that accepts a configurable set of static tokens, as
 * `backend.auth.externalAccess` does, and records what it saw.
 */
async function startApi() {
  const accepted = new Set<string>();
  const seen: { token: string; status: number; body: any }[] = [];
  const server: Server = createServer((req, res) => {
    let raw = '';
    req.on('data', chunk => (raw += chunk));
    req.on('end', () => {
      const token = String(req.headers.authorization ?? '').replace(
        /^Bearer /,
        '',
      );
      const status = accepted.has(token) ? 200 : 401;
      seen.push({ token, status, body: JSON.parse(raw) });
      res.writeHead(status, { 'Content-Type': 'application/json' });
      res.end(
        status === 200
          ? JSON.stringify({ proceed: true, status: 'running' })
          : JSON.stringify({ error: { message: 'Invalid token' } }),
      );
    });
  });
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}/api/lab-scheduler`,
    accepted,
    seen,
    close: () => new Promise(resolve => server.close(resolve)),
  };
}

/** The secret store's current value and how often it was read. */
function secretSource(initial: string) {
  const source = {
    value: initial,
    reads: 0,
    read: async () => {
      source.reads += 1;
      return source.value;
    },
  };
  return source;
}

describe('HttpRunReporter tokens', () => {
  let api: Awaited<ReturnType<typeof startApi>>;
  beforeEach(async () => {
    api = await startApi();
  });
  afterEach(async () => {
    await api.close();
  });

  it('still takes a fixed token string, and does not retry a 401 with it', async () => {
    api.accepted.add('fixed');
    const reporter = new HttpRunReporter({
      baseUrl: api.baseUrl,
      token: 'fixed',
    });
    await expect(reporter.start('run-1', 1)).resolves.toEqual({
      proceed: true,
      status: 'running',
    });
    api.accepted.clear();
    await expect(reporter.succeed('run-1', {} as any)).rejects.toThrow(
      /failed: 401/,
    );
    expect(api.seen.map(s => s.status)).toEqual([200, 401]);
  });

  it('follows a rotation: after the backend drops the old token, a 401 re-reads the secret and the event is sent again', async () => {
    const secret = secretSource('old');
    api.accepted.add('old');
    const reporter = new HttpRunReporter({
      baseUrl: api.baseUrl,
      // A long TTL: only the 401 can make it read again.
      token: cachedServiceToken(secret.read, { ttlMs: 3_600_000 }),
    });
    await reporter.start('run-1', 1);
    await reporter.start('run-2', 1);
    expect(secret.reads).toBe(1);

    // Rotation: the secret has the new value, the backend (after its overlap) accepts only the new one.
    secret.value = 'new';
    api.accepted.add('new');
    api.accepted.delete('old');

    await expect(
      reporter.fail('run-2', 'instrument offline', { retrying: true }),
    ).resolves.toBeUndefined();
    expect(secret.reads).toBe(2);
    expect(
      api.seen.slice(2).map(s => [s.token, s.status, s.body.type]),
    ).toEqual([
      ['old', 401, 'failed'],
      ['new', 200, 'failed'],
    ]);
    // Later reports use the new token straight away.
    await reporter.start('run-3', 1);
    expect(api.seen.at(-1)).toMatchObject({ token: 'new', status: 200 });
    expect(secret.reads).toBe(2);
  });

  it('fails with the 401 when the secret still holds the rejected token (no loop)', async () => {
    const secret = secretSource('old');
    const reporter = new HttpRunReporter({
      baseUrl: api.baseUrl,
      token: cachedServiceToken(secret.read, { ttlMs: 3_600_000 }),
    });
    await expect(reporter.start('run-1', 1)).rejects.toThrow(
      /Reporting started for run run-1 failed: 401/,
    );
    expect(api.seen).toHaveLength(1);
    expect(secret.reads).toBe(2);
  });

  it('reads the secret once for many events rejected at the same time', async () => {
    const secret = secretSource('old');
    api.accepted.add('old');
    const reporter = new HttpRunReporter({
      baseUrl: api.baseUrl,
      token: cachedServiceToken(secret.read, { ttlMs: 3_600_000 }),
    });
    await reporter.start('warm-up', 1);
    secret.value = 'new';
    api.accepted.clear();
    api.accepted.add('new');
    await Promise.all(
      Array.from({ length: 8 }, (_, i) => reporter.start(`run-${i}`, 1)),
    );
    expect(secret.reads).toBe(2);
    expect(api.seen.filter(s => s.status === 200)).toHaveLength(9);
  });
});

describe('cachedServiceToken', () => {
  it('re-reads the secret after the TTL, so a warm container picks up a rotation by itself', async () => {
    let clock = 0;
    const secret = secretSource('old');
    const token = cachedServiceToken(secret.read, {
      ttlMs: 300_000,
      now: () => clock,
    });
    expect(await token()).toBe('old');
    secret.value = 'new';
    clock = 299_999;
    expect(await token()).toBe('old');
    clock = 300_000;
    expect(await token()).toBe('new');
    expect(secret.reads).toBe(2);
  });

  it('keeps the last value when a scheduled refresh fails, but surfaces a failure after a rejection', async () => {
    let clock = 0;
    let failing = false;
    const read = async () => {
      if (failing) throw new Error('Secrets Manager unavailable');
      return 'old';
    };
    const token = cachedServiceToken(read, { ttlMs: 1000, now: () => clock });
    expect(await token()).toBe('old');
    failing = true;
    clock = 5000;
    expect(await token()).toBe('old');
    await expect(token({ rejected: 'old' })).rejects.toThrow(/unavailable/);
  });

  it('fails the first read instead of inventing a token', async () => {
    const token = cachedServiceToken(
      async () => {
        throw new Error('AccessDenied');
      },
      { ttlMs: 1000 },
    );
    await expect(token()).rejects.toThrow('AccessDenied');
  });
});
