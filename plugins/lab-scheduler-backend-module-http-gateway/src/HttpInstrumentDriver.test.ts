import {
  createServer,
  IncomingMessage,
  Server,
  ServerResponse,
} from 'node:http';
import { AddressInfo } from 'node:net';
import {
  GatewayResponseError,
  HttpInstrumentDriver,
} from './HttpInstrumentDriver';
import {
  InstrumentFaultError,
  MeasurementRequest,
} from '@lab-scheduler/plugin-lab-scheduler-node';

const request: MeasurementRequest = {
  runId: '7a03aa29-ea0b-4587-9d20-81247edc8bff',
  instrumentRef: 'resource:default/balance-1',
  measurement: { type: 'mass-reading', parameters: {} },
  scheduledFor: '2026-11-28T09:00:00.000Z',
};

type Handler = (
  req: IncomingMessage,
  res: ServerResponse,
  body: string,
) => void;

/** A real HTTP server on a free port whose behaviour each test sets. */
async function startServer() {
  const state = {
    handler: ((_req, res) => res.end()) as Handler,
    requests: [] as { url?: string; auth?: string; body: string }[],
  };
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', c => (body += c));
    req.on('end', () => {
      state.requests.push({
        url: req.url,
        auth: req.headers.authorization,
        body,
      });
      state.handler(req, res, body);
    });
  });
  await new Promise<void>(r => server.listen(0, '127.0.0.1', r));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    origin,
    state,
    close: () =>
      new Promise<void>(r => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

const okAnswer = JSON.stringify({ units: { mass: 'g' }, data: { mass: 1.5 } });

/** Writes `total` bytes in 64 KiB chunks, honouring backpressure, and reports how much went out. */
function stream(
  res: ServerResponse,
  total: number,
  sent: { bytes: number },
  status = 200,
) {
  const chunk = Buffer.alloc(64 * 1024, status === 200 ? 0x20 : 0x61);
  res.writeHead(status, { 'Content-Type': 'application/json' });
  const pump = () => {
    while (sent.bytes < total && !res.destroyed) {
      sent.bytes += chunk.byteLength;
      if (!res.write(chunk)) {
        res.once('drain', pump);
        return;
      }
    }
    if (!res.destroyed) res.end();
  };
  pump();
}

describe('HttpInstrumentDriver hardening (real local servers)', () => {
  let gateway: Awaited<ReturnType<typeof startServer>>;
  let elsewhere: Awaited<ReturnType<typeof startServer>>;

  beforeAll(async () => {
    gateway = await startServer();
    elsewhere = await startServer();
  });
  afterAll(async () => {
    await gateway.close();
    await elsewhere.close();
  });
  beforeEach(() => {
    gateway.state.requests.length = 0;
    elsewhere.state.requests.length = 0;
    elsewhere.state.handler = (_req, res) => res.end(okAnswer);
  });

  const driver = (options: Partial<{ maxResponseBytes: number }> = {}) =>
    new HttpInstrumentDriver({
      endpoint: `${gateway.origin}/gw`,
      token: 'gateway-secret',
      timeoutMs: 10_000,
      ...options,
    });

  it.each([301, 302, 303, 307, 308])(
    'refuses a %i redirect to another host, which never sees the request or the token',
    async status => {
      gateway.state.handler = (_req, res) =>
        res.writeHead(status, { Location: `${elsewhere.origin}/steal` }).end();
      const result = driver().measure(request);
      await expect(result).rejects.toThrow(GatewayResponseError);
      await expect(result).rejects.toThrow(
        `redirected (${status}) to ${elsewhere.origin}, another origin than ${gateway.origin}`,
      );
      await expect(result).rejects.not.toBeInstanceOf(InstrumentFaultError);
      expect(elsewhere.state.requests).toEqual([]);
    },
  );

  it('follows a same-origin 307, sending the body and token again', async () => {
    gateway.state.handler = (req, res) => {
      if (req.url === '/gw/measure')
        return res.writeHead(307, { Location: '/v2/measure' }).end();
      return res.end(okAnswer);
    };
    const raw = await driver().measure(request);
    expect(raw.data).toEqual({ mass: 1.5 });
    expect(gateway.state.requests.map(r => r.url)).toEqual([
      '/gw/measure',
      '/v2/measure',
    ]);
    expect(gateway.state.requests[1].auth).toBe('Bearer gateway-secret');
    expect(JSON.parse(gateway.state.requests[1].body).runId).toBe(
      request.runId,
    );
  });

  it('refuses a same-origin redirect that would turn the POST into a GET', async () => {
    gateway.state.handler = (_req, res) =>
      res.writeHead(302, { Location: '/elsewhere' }).end();
    await expect(driver().measure(request)).rejects.toThrow(
      /redirected \(302\) to \/elsewhere, which would turn the measurement POST into a GET/,
    );
    expect(gateway.state.requests).toHaveLength(1);
  });

  it('gives up on a redirect loop', async () => {
    gateway.state.handler = (_req, res) =>
      res.writeHead(307, { Location: '/gw/measure' }).end();
    await expect(driver().measure(request)).rejects.toThrow(
      /redirected more than 3 times/,
    );
    expect(gateway.state.requests).toHaveLength(4);
  });

  it('refuses an answer whose Content-Length is above the limit without reading it', async () => {
    gateway.state.handler = (_req, res) =>
      res
        .writeHead(200, { 'Content-Length': String(2048) })
        .end('x'.repeat(2048));
    const result = driver({ maxResponseBytes: 1024 }).measure(request);
    await expect(result).rejects.toThrow(GatewayResponseError);
    await expect(result).rejects.toThrow(
      'answer is larger than 1024 bytes (maxResponseBytes)',
    );
  });

  it('counts a chunked answer as it streams and aborts it past the limit', async () => {
    const total = 200 * 1024 * 1024;
    const sent = { bytes: 0 };
    gateway.state.handler = (_req, res) => stream(res, total, sent);
    const result = driver({ maxResponseBytes: 1024 * 1024 }).measure(request);
    await expect(result).rejects.toThrow(
      'answer is larger than 1048576 bytes (maxResponseBytes)',
    );
    await expect(result).rejects.not.toBeInstanceOf(InstrumentFaultError);
    // The server stops once the client hangs up: far less than the 200 MB it would send.
    await new Promise(r => setTimeout(r, 200));
    expect(sent.bytes).toBeLessThan(total / 4);
  });

  it('accepts an answer exactly at the limit', async () => {
    const answer = JSON.stringify({ units: {}, data: { pad: '' } });
    const padded = JSON.stringify({
      units: {},
      data: { pad: 'p'.repeat(1000 - answer.length) },
    });
    expect(Buffer.byteLength(padded)).toBe(1000);
    gateway.state.handler = (_req, res) => res.end(padded);
    const raw = await driver({ maxResponseBytes: 1000 }).measure(request);
    expect((raw.data as any).pad).toHaveLength(1000 - answer.length);
  });

  it('times out while the answer trickles in, as a retryable fault', async () => {
    gateway.state.handler = (_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.write('{"data":');
      // never finished
    };
    const result = new HttpInstrumentDriver({
      endpoint: `${gateway.origin}/gw`,
      timeoutMs: 300,
    }).measure(request);
    await expect(result).rejects.toThrow(InstrumentFaultError);
    await expect(result).rejects.toThrow(/timed out after 300 ms/);
  });

  it('reads only the start of a large error answer', async () => {
    const sent = { bytes: 0 };
    gateway.state.handler = (_req, res) =>
      stream(res, 50 * 1024 * 1024, sent, 422);
    const result = driver().measure(request);
    await expect(result).rejects.toThrow(
      new RegExp(`refused the measurement \\(422\\): a{300}$`),
    );
    await expect(result).rejects.toBeInstanceOf(GatewayResponseError);
    await new Promise(r => setTimeout(r, 200));
    expect(sent.bytes).toBeLessThan(25 * 1024 * 1024);
  });
});
