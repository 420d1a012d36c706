import SwaggerParser from '@apidevtools/swagger-parser';
import { measurementTypes } from '@lab-scheduler/plugin-lab-scheduler-common';
import {
  InstrumentFaultError,
  MeasurementRequest,
  processMeasurement,
  SimulatedInstrumentDriver,
} from '@lab-scheduler/plugin-lab-scheduler-node';
import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import { readFileSync } from 'node:fs';
import { createServer, IncomingHttpHeaders, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { parse } from 'yaml';
import {
  DEFAULT_GATEWAY_TIMEOUT_MS,
  DEFAULT_MAX_GATEWAY_RESPONSE_BYTES,
  GatewayResponseError,
  HttpInstrumentDriver,
} from './HttpInstrumentDriver';

/** The instrument gateway contract as this package ships it (`files` includes openapi/). */
const contractText = readFileSync(
  join(__dirname, '../openapi/instrument-gateway.yaml'),
  'utf8',
);
const contract = parse(contractText);
const operation = contract.paths['/measure'].post;
const ajv = new Ajv({ strict: false, allErrors: true });
addFormats(ajv);
ajv.addSchema(contract, 'gateway');
const validRequest = ajv.compile({
  $ref: 'gateway#/components/schemas/MeasurementRequest',
});
const validResponse = ajv.compile({
  $ref: 'gateway#/components/schemas/MeasurementResponse',
});

type Behaviour =
  | { kind: 'measure' }
  | { kind: 'status'; status: number }
  | { kind: 'stall' }
  | { kind: 'oversize'; bytes: number }
  | { kind: 'raw'; body: string }
  | { kind: 'redirect-loop' };

interface Received {
  method?: string;
  url?: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/**
 * A reference gateway, written from the contract alone: `POST /measure` (404 otherwise), the bearer
 * token when it has one (401 otherwise), the request checked against MeasurementRequest (400 otherwise),
 * a measurement (the simulation) answered as a MeasurementResponse it checks before sending, and a
 * repeated `runId` answered from its record (at-least-once delivery). Each test sets its behaviour.
 */
async function startReferenceGateway(options: { token?: string } = {}) {
  const simulated = new SimulatedInstrumentDriver();
  const state = {
    behaviour: { kind: 'measure' } as Behaviour,
    received: [] as Received[],
    measured: 0,
    record: new Map<string, unknown>(),
  };
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', chunk => {
      body += chunk;
    });
    req.on('end', async () => {
      state.received.push({
        method: req.method,
        url: req.url,
        headers: req.headers,
        body,
      });
      const send = (status: number, value: unknown) =>
        res
          .writeHead(status, { 'Content-Type': 'application/json' })
          .end(JSON.stringify(value));
      const behaviour = state.behaviour;
      if (behaviour.kind === 'redirect-loop') {
        res.writeHead(307, { Location: '/measure' }).end();
        return;
      }
      if (req.method !== 'POST' || req.url !== '/measure') {
        send(404, { error: 'not found' });
        return;
      }
      if (
        options.token &&
        req.headers.authorization !== `Bearer ${options.token}`
      ) {
        send(401, { error: 'bad token' });
        return;
      }
      let request: unknown;
      try {
        request = JSON.parse(body);
      } catch {
        send(400, { error: 'not JSON' });
        return;
      }
      if (!validRequest(request)) {
        send(400, { error: ajv.errorsText(validRequest.errors) });
        return;
      }
      switch (behaviour.kind) {
        case 'status':
          send(behaviour.status, { error: `answering ${behaviour.status}` });
          return;
        case 'stall':
          res.writeHead(200, { 'Content-Type': 'application/json' });
          res.write('{"data":');
          return; // never finished
        case 'raw':
          res
            .writeHead(200, { 'Content-Type': 'application/json' })
            .end(behaviour.body);
          return;
        case 'oversize': {
          const answer = JSON.stringify({
            units: {},
            data: { pad: 'x'.repeat(behaviour.bytes) },
          });
          expect(validResponse(JSON.parse(answer))).toBe(true);
          res
            .writeHead(200, { 'Content-Type': 'application/json' })
            .end(answer);
          return;
        }
        default: {
          const { runId } = request as MeasurementRequest;
          if (!state.record.has(runId)) {
            const raw = await simulated.measure(request as MeasurementRequest);
            state.measured++;
            state.record.set(runId, {
              acquiredAt: raw.acquiredAt,
              units: raw.units,
              data: raw.data,
            });
          }
          const answer = state.record.get(runId);
          if (!validResponse(answer)) {
            send(500, { error: ajv.errorsText(validResponse.errors) });
            return;
          }
          send(200, answer);
        }
      }
    });
  });
  await new Promise<void>(r => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    state,
    close: () =>
      new Promise<void>(r => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
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
  let gateway: Awaited<ReturnType<typeof startReferenceGateway>>;
  let open: Awaited<ReturnType<typeof startReferenceGateway>>;
  const TOKEN = 'gw-token';
  const driver = (options: { timeoutMs?: number; maxResponseBytes?: number }) =>
    new HttpInstrumentDriver({
      endpoint: gateway.url,
      token: TOKEN,
      ...options,
    });

  beforeAll(async () => {
    gateway = await startReferenceGateway({ token: TOKEN });
    open = await startReferenceGateway();
  });
  afterAll(async () => {
    await gateway.close();
    await open.close();
  });
  beforeEach(() => {
    for (const g of [gateway, open]) {
      g.state.behaviour = { kind: 'measure' };
      g.state.received.length = 0;
      g.state.measured = 0;
      g.state.record.clear();
    }
  });

  it('is a valid OpenAPI 3.0 document', async () => {
    await expect(
      SwaggerParser.validate(structuredClone(contract)),
    ).resolves.toBeDefined();
    expect(contract.openapi).toMatch(/^3\.0\./);
  });

  it('the driver sends what the contract describes: POST {endpoint}/measure, JSON, bearer token, a MeasurementRequest and nothing else', async () => {
    await driver({}).measure(request);
    expect(gateway.state.received).toHaveLength(1);
    const [sent] = gateway.state.received;
    expect(sent.method).toBe('POST');
    expect(sent.url).toBe('/measure');
    expect(sent.headers['content-type']).toBe('application/json');
    expect(sent.headers.authorization).toBe(`Bearer ${TOKEN}`);
    const body = JSON.parse(sent.body);
    expect(validRequest(body)).toBe(true);
    const schema = contract.components.schemas.MeasurementRequest;
    expect(Object.keys(body).sort()).toEqual(
      Object.keys(schema.properties).sort(),
    );
    expect(Object.keys(body.measurement).sort()).toEqual(
      Object.keys(schema.properties.measurement.properties).sort(),
    );
  });

  it('without a token the driver sends no Authorization header (the `{}` security alternative)', async () => {
    expect(operation.security).toEqual([{ bearer: [] }, {}]);
    await new HttpInstrumentDriver({ endpoint: `${open.url}/` }).measure(
      request,
    );
    expect(open.state.received[0].url).toBe('/measure');
    expect(open.state.received[0].headers.authorization).toBeUndefined();
  });

  it('a MeasurementResponse from a gateway following the contract is a measurement the executor processes', async () => {
    const raw = await driver({}).measure(request);
    expect(gateway.state.measured).toBe(1);
    expect(raw).toMatchObject({
      type: 'absorbance-spectrum',
      instrumentRef: request.instrumentRef,
      units: { absorbance: 'AU' },
    });
    expect(
      processMeasurement(raw, request.measurement.parameters).summary,
    ).toMatchObject({ peakWavelengthNm: expect.any(Number) });
  });

  it('accepts the smallest valid answer (only `data`): acquiredAt defaults to the answer time, units to {}', async () => {
    const minimal = { data: { mass: 1.5 } };
    expect(validResponse(minimal)).toBe(true);
    gateway.state.behaviour = { kind: 'raw', body: JSON.stringify(minimal) };
    const before = Date.now();
    const raw = await driver({}).measure(request);
    expect(raw.data).toEqual({ mass: 1.5 });
    expect(raw.units).toEqual({});
    expect(Date.parse(raw.acquiredAt)).toBeGreaterThanOrEqual(before - 1000);
  });

  it('answers outside MeasurementResponse are instrument faults (retried): invalid JSON, no data object', async () => {
    expect(validResponse({ units: {} })).toBe(false);
    for (const body of ['{"data":', JSON.stringify({ units: {} })]) {
      gateway.state.behaviour = { kind: 'raw', body };
      await expect(driver({}).measure(request)).rejects.toBeInstanceOf(
        InstrumentFaultError,
      );
    }
  });

  it('every documented status is classified as its description says: "retried" → instrument fault, "without retries" → refusal', async () => {
    const documented = Object.entries(operation.responses) as [
      string,
      { description: string },
    ][];
    expect(documented.map(([status]) => status).sort()).toEqual([
      '200',
      '400',
      '401',
      '503',
    ]);
    const classify = (error: unknown) => {
      if (error instanceof GatewayResponseError) return 'refused';
      if (error instanceof InstrumentFaultError) return 'retried';
      return error === undefined ? 'measured' : `other: ${error}`;
    };
    const said = (code: number, description: string) => {
      if (code < 300) return 'measured';
      if (/without retries/.test(description)) return 'refused';
      if (/is retried/.test(description)) return 'retried';
      return `not said: ${description}`;
    };
    const expected: Record<string, string> = {};
    const actual: Record<string, string> = {};
    for (const [status, { description }] of documented) {
      const code = Number(status);
      expected[status] = said(code, description);
      gateway.state.behaviour =
        code < 300 ? { kind: 'measure' } : { kind: 'status', status: code };
      actual[status] = classify(
        await driver({})
          .measure(request)
          .then(
            () => undefined,
            error => error,
          ),
      );
    }
    expect(actual).toEqual(expected);
    // Both kinds occur: the check above cannot pass by classifying everything alike.
    expect(new Set(Object.values(expected))).toEqual(
      new Set(['measured', 'refused', 'retried']),
    );
  });

  it('the reference gateway refuses what the contract does not allow, and the driver takes those refusals as final', async () => {
    // A wrong token (401) and a request outside MeasurementRequest (400).
    await expect(
      new HttpInstrumentDriver({
        endpoint: gateway.url,
        token: 'wrong',
      }).measure(request),
    ).rejects.toBeInstanceOf(GatewayResponseError);
    const outside = { ...request, runId: 'not-a-uuid' };
    expect(validRequest(outside)).toBe(false);
    await expect(driver({}).measure(outside)).rejects.toThrow(
      /refused the measurement \(400\).*runId must match format .*uuid/,
    );
    expect(gateway.state.measured).toBe(0);
  });

  it('a gateway that does not answer within timeoutMs is an instrument fault (retried)', async () => {
    gateway.state.behaviour = { kind: 'stall' };
    const result = driver({ timeoutMs: 300 }).measure(request);
    await expect(result).rejects.toBeInstanceOf(InstrumentFaultError);
    await expect(result).rejects.toThrow(/timed out after 300 ms/);
  });

  it('an answer larger than maxResponseBytes is refused (final), even a valid one', async () => {
    gateway.state.behaviour = { kind: 'oversize', bytes: 4096 };
    const result = driver({ maxResponseBytes: 1024 }).measure(request);
    await expect(result).rejects.toBeInstanceOf(GatewayResponseError);
    await expect(result).rejects.toThrow(
      'larger than 1024 bytes (maxResponseBytes)',
    );
  });

  it("the description's defaults and redirect limit are the driver's", async () => {
    const text: string = contract.info.description;
    const seconds = Number(text.match(/\(default (\d+) s\)/)?.[1]);
    const mebibytes = Number(text.match(/\(default (\d+) MiB\)/)?.[1]);
    const redirects = Number(
      text.match(
        /only same-origin 307\/308 are followed \(at most (\d+)\)/,
      )?.[1],
    );
    expect(seconds * 1000).toBe(DEFAULT_GATEWAY_TIMEOUT_MS);
    expect(mebibytes * 1024 * 1024).toBe(DEFAULT_MAX_GATEWAY_RESPONSE_BYTES);
    gateway.state.behaviour = { kind: 'redirect-loop' };
    await expect(driver({}).measure(request)).rejects.toThrow(
      `redirected more than ${redirects} times`,
    );
    expect(gateway.state.received).toHaveLength(1 + redirects);
  });

  it('a repeated runId (redelivery) is answered from the gateway record: one measurement, the same data', async () => {
    const first = await driver({}).measure(request);
    const again = await driver({}).measure(request);
    expect(again.data).toEqual(first.data);
    expect(gateway.state.received).toHaveLength(2);
    expect(gateway.state.measured).toBe(1);
  });

  it('the schemas are not vacuous', () => {
    expect(validRequest(request)).toBe(true);
    expect(validRequest({ ...request, runId: undefined })).toBe(false);
    expect(validRequest({ ...request, measurement: { type: 'x' } })).toBe(
      false,
    );
    expect(validResponse({ units: {} })).toBe(false);
    expect(validResponse({ data: {}, units: { mass: 1 } })).toBe(false);
  });
});
