import { measurementTypes } from '@lab-scheduler/plugin-lab-scheduler-common';
import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { HttpInstrumentDriver } from './HttpInstrumentDriver';
import { InstrumentFaultError } from './InstrumentDriver';
import { SimulatedInstrumentDriver } from './SimulatedInstrumentDriver';

const request = (
  type: string,
  parameters: object = {},
  runId = '7a03aa29-ea0b-4587-9d20-81247edc8bff',
) => ({
  runId,
  instrumentRef: 'resource:default/plate-reader-1',
  scheduledFor: '2026-12-01T09:00:00.000Z',
  measurement: {
    type,
    parameters: measurementTypes[type].parameters.parse(parameters) as Record<
      string,
      unknown
    >,
  },
});

describe('SimulatedInstrumentDriver', () => {
  const driver = new SimulatedInstrumentDriver();

  it.each(Object.keys(measurementTypes))(
    'produces %s data deterministically per run',
    async type => {
      const a = await driver.measure(request(type));
      const b = await driver.measure(request(type));
      const other = await driver.measure(
        request(type, {}, '00000000-0000-4000-8000-000000000001'),
      );
      expect(a.data).toEqual(b.data);
      expect(a.data).not.toEqual(other.data);
      expect(a.type).toBe(type);
    },
  );

  it('follows the parameters', async () => {
    const spectrum = await driver.measure(
      request('absorbance-spectrum', { startNm: 250, endNm: 300, stepNm: 5 }),
    );
    expect(spectrum.data.wavelengthNm).toEqual([
      250, 255, 260, 265, 270, 275, 280, 285, 290, 295, 300,
    ]);
    const plate = await driver.measure(
      request('plate-od', { plateFormat: 384 }),
    );
    expect((plate.data.od as number[][]).flat()).toHaveLength(384);
  });

  it('raises instrument faults when switched on', async () => {
    const faulty = new SimulatedInstrumentDriver({ faultRate: 1 });
    await expect(
      faulty.measure(request('mass-reading')),
    ).rejects.toBeInstanceOf(InstrumentFaultError);
  });
});

describe('HttpInstrumentDriver against a local gateway', () => {
  let server: Server;
  let endpoint: string;
  const received: any[] = [];
  let mode: 'ok' | 'error' | 'refuse' | 'slow' = 'ok';

  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', c => (body += c));
      req.on('end', () => {
        received.push({
          url: req.url,
          auth: req.headers.authorization,
          body: JSON.parse(body),
        });
        if (mode === 'slow') return setTimeout(() => res.end('{}'), 1000);
        if (mode === 'error') return res.writeHead(503).end('lamp warming up');
        if (mode === 'refuse') return res.writeHead(422).end('unknown method');
        return res.writeHead(200, { 'Content-Type': 'application/json' }).end(
          JSON.stringify({
            units: { mass: 'g' },
            data: { readings: [1.0001, 1.0002], unit: 'g' },
          }),
        );
      });
    });
    await new Promise<void>(r => server.listen(0, '127.0.0.1', r));
    endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}/gw/`;
  });
  afterAll(() => new Promise(r => server.close(r)));

  it('posts the measurement with the token and returns the data', async () => {
    mode = 'ok';
    const driver = new HttpInstrumentDriver({ endpoint, token: 's3cret' });
    const raw = await driver.measure(request('mass-reading'));
    expect(raw.data).toEqual({ readings: [1.0001, 1.0002], unit: 'g' });
    expect(received.at(-1)).toMatchObject({
      url: '/gw/measure',
      auth: 'Bearer s3cret',
      body: {
        runId: '7a03aa29-ea0b-4587-9d20-81247edc8bff',
        measurement: { type: 'mass-reading' },
      },
    });
  });

  it('treats 5xx and timeouts as instrument faults, 4xx as permanent', async () => {
    mode = 'error';
    await expect(
      new HttpInstrumentDriver({ endpoint }).measure(request('mass-reading')),
    ).rejects.toThrow(InstrumentFaultError);
    mode = 'slow';
    await expect(
      new HttpInstrumentDriver({ endpoint, timeoutMs: 100 }).measure(
        request('mass-reading'),
      ),
    ).rejects.toThrow(/timed out after 100 ms/);
    mode = 'refuse';
    const refused = new HttpInstrumentDriver({ endpoint }).measure(
      request('mass-reading'),
    );
    await expect(refused).rejects.toThrow(/refused the measurement \(422\)/);
    await expect(refused).rejects.not.toBeInstanceOf(InstrumentFaultError);
  });
});
