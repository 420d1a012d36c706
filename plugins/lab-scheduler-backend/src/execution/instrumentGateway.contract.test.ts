import {
  GatewayResponseError,
  HttpInstrumentDriver,
  InstrumentFaultError,
  MeasurementRequest,
  processMeasurement,
  SimulatedInstrumentDriver,
} from '@lab-scheduler/plugin-lab-scheduler-node';
import { measurementTypes } from '@lab-scheduler/plugin-lab-scheduler-common';
import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import { readFileSync } from 'node:fs';
import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { parse } from 'yaml';

/** The instrument gateway contract as `-node` ships it (openapi/instrument-gateway.yaml). */
const contract = parse(
  readFileSync(
    join(
      dirname(
        require.resolve(
          '@lab-scheduler/plugin-lab-scheduler-node/package.json',
        ),
      ),
      'openapi/instrument-gateway.yaml',
    ),
    'utf8',
  ),
);
const ajv = new Ajv({ strict: false, allErrors: true });
addFormats(ajv);
ajv.addSchema(contract, 'gateway');
const validRequest = ajv.compile({
  $ref: 'gateway#/components/schemas/MeasurementRequest',
});
const validResponse = ajv.compile({
  $ref: 'gateway#/components/schemas/MeasurementResponse',
});

/**
 * A reference gateway, written from the contract alone: checks the token and the request against the
 * document (400 otherwise), answers 503 while the instrument is faulty, and measures with the simulation.
 */
function startReferenceGateway(options: { token: string; faulty?: boolean }) {
  const simulated = new SimulatedInstrumentDriver();
  const answers: unknown[] = [];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', chunk => {
      body += chunk;
    });
    req.on('end', async () => {
      const send = (status: number, value: unknown) => {
        res.writeHead(status, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify(value));
      };
      if (req.method !== 'POST' || req.url !== '/measure') {
        send(404, { error: 'not found' });
        return;
      }
      if (req.headers.authorization !== `Bearer ${options.token}`) {
        send(401, { error: 'bad token' });
        return;
      }
      const request = JSON.parse(body);
      if (!validRequest(request)) {
        send(400, { error: ajv.errorsText(validRequest.errors) });
        return;
      }
      if (options.faulty) {
        send(503, { error: 'lamp fault' });
        return;
      }
      const raw = await simulated.measure(request as MeasurementRequest);
      const answer = {
        acquiredAt: raw.acquiredAt,
        units: raw.units,
        data: raw.data,
      };
      answers.push(answer);
      send(200, answer);
    });
  });
  return new Promise<{ url: string; answers: unknown[]; close(): void }>(
    resolve =>
      server.listen(0, '127.0.0.1', () =>
        resolve({
          url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
          answers,
          close: () => server.close(),
        }),
      ),
  );
}

const request: MeasurementRequest = {
  runId: '0195e5f0-0000-7000-8000-000000000001',
  instrumentRef: 'resource:default/plate-reader-1',
  scheduledFor: '2026-12-01T09:00:00.000Z',
  // As the executor sends them: the task's parameters with the type's defaults.
  measurement: {
    type: 'absorbance-spectrum',
    parameters: measurementTypes['absorbance-spectrum'].parameters.parse({}),
  },
};

describe('the instrument gateway contract (openapi/instrument-gateway.yaml)', () => {
  it('the http driver sends what the contract describes and processes what a gateway following it answers', async () => {
    const gateway = await startReferenceGateway({ token: 'gw-token' });
    try {
      const driver = new HttpInstrumentDriver({
        endpoint: gateway.url,
        token: 'gw-token',
      });
      const raw = await driver.measure(request);
      expect(gateway.answers).toHaveLength(1);
      expect(validResponse(gateway.answers[0])).toBe(true);
      expect(raw).toMatchObject({
        type: 'absorbance-spectrum',
        instrumentRef: request.instrumentRef,
        units: { absorbance: 'AU' },
      });
      expect(
        processMeasurement(raw, request.measurement.parameters).summary,
      ).toMatchObject({ peakWavelengthNm: expect.any(Number) });
    } finally {
      gateway.close();
    }
  });

  it('a request outside the contract is refused by the reference gateway (the schema is not vacuous)', () => {
    expect(validRequest({ ...request, runId: undefined })).toBe(false);
    expect(validResponse({ units: {} })).toBe(false);
  });

  it('5xx is an instrument fault (retried), 4xx a refusal (final), as the contract says', async () => {
    const faulty = await startReferenceGateway({
      token: 'gw-token',
      faulty: true,
    });
    try {
      await expect(
        new HttpInstrumentDriver({
          endpoint: faulty.url,
          token: 'gw-token',
        }).measure(request),
      ).rejects.toBeInstanceOf(InstrumentFaultError);
      await expect(
        new HttpInstrumentDriver({
          endpoint: faulty.url,
          token: 'wrong',
        }).measure(request),
      ).rejects.toBeInstanceOf(GatewayResponseError);
    } finally {
      faulty.close();
    }
  });
});
