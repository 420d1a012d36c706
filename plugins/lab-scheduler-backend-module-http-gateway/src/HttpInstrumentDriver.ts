import {
  InstrumentDriver,
  InstrumentFaultError,
  MeasurementRequest,
  RawMeasurement,
} from '@lab-scheduler/plugin-lab-scheduler-node';

export interface HttpInstrumentDriverOptions {
  /** Base URL of the instrument gateway; the driver POSTs to `${endpoint}/measure`. */
  endpoint: string;
  /** Bearer token for the gateway, if it needs one. */
  token?: string;
  /** Abort the request (including reading the answer) after this many ms. Default 60 000. */
  timeoutMs?: number;
  /** Largest accepted answer body in bytes; a larger one is aborted while it streams in. Default 16 MiB. */
  maxResponseBytes?: number;
  fetch?: typeof fetch;
}

export const DEFAULT_GATEWAY_TIMEOUT_MS = 60_000;
export const DEFAULT_MAX_GATEWAY_RESPONSE_BYTES = 16 * 1024 * 1024;
/** Same-origin 307/308 hops followed before giving up (a gateway behind a path rewrite needs one). */
const MAX_REDIRECTS = 3;
/** How much of an error answer is read for the message. */
const ERROR_EXCERPT_BYTES = 300;

/**
 * The gateway's answer cannot be used and asking again will not change that (refused request, redirect
 * elsewhere, oversized answer). Not an InstrumentFaultError, so the run fails without retries.
 */
export class GatewayResponseError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'GatewayResponseError';
  }
}

class BodyTooLargeError extends Error {}

/** Reads a body counting bytes as they arrive and stops (cancelling the stream) past `limit`. */
async function readLimited(
  response: Response,
  limit: number,
): Promise<Uint8Array> {
  const declared = Number(response.headers.get('content-length'));
  if (Number.isFinite(declared) && declared > limit) {
    await response.body?.cancel().catch(() => {});
    throw new BodyTooLargeError();
  }
  if (!response.body) return new Uint8Array();
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > limit) {
      await reader.cancel().catch(() => {});
      throw new BodyTooLargeError();
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks, total);
}

/** The start of an error answer, for messages; never reads more than a few hundred bytes. */
async function excerpt(response: Response): Promise<string> {
  if (!response.body) return '';
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    while (total < ERROR_EXCERPT_BYTES) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      total += value.byteLength;
    }
  } catch {
    // The status is what matters; a body that breaks off adds nothing.
  } finally {
    await reader.cancel().catch(() => {});
  }
  return Buffer.concat(chunks)
    .toString('utf8', 0, Math.min(total, ERROR_EXCERPT_BYTES))
    .trim();
}

/**
 * Drives a real instrument through an HTTP gateway:
 * `POST {endpoint}/measure` with `{ runId, instrumentRef, measurement, scheduledFor }`, answered with
 * `{ acquiredAt?, units, data }`. 5xx, timeouts and network errors are instrument faults (retried);
 * 4xx, redirects that leave the gateway's origin and answers above `maxResponseBytes` are permanent.
 * Redirects are never followed automatically: a redirect to another host would carry the gateway token
 * and the measurement request there.
 */
export class HttpInstrumentDriver implements InstrumentDriver {
  readonly name = 'http';
  private readonly timeoutMs: number;
  private readonly maxResponseBytes: number;

  constructor(private readonly options: HttpInstrumentDriverOptions) {
    this.timeoutMs = options.timeoutMs ?? DEFAULT_GATEWAY_TIMEOUT_MS;
    this.maxResponseBytes =
      options.maxResponseBytes ?? DEFAULT_MAX_GATEWAY_RESPONSE_BYTES;
  }

  async measure(
    request: MeasurementRequest,
    options: { signal?: AbortSignal } = {},
  ): Promise<RawMeasurement> {
    const timeout = AbortSignal.timeout(this.timeoutMs);
    const signal = options.signal
      ? AbortSignal.any([options.signal, timeout])
      : timeout;
    const unreachable = (error: unknown) =>
      new InstrumentFaultError(
        `Instrument gateway unreachable: ${
          timeout.aborted ? `timed out after ${this.timeoutMs} ms` : error
        }`,
      );

    let response: Response;
    try {
      response = await this.post(JSON.stringify(request), signal);
    } catch (error) {
      if (error instanceof GatewayResponseError) throw error;
      throw unreachable(error);
    }
    if (response.status >= 500) {
      throw new InstrumentFaultError(
        `Instrument gateway answered ${response.status}: ${await excerpt(
          response,
        )}`,
      );
    }
    if (!response.ok) {
      throw new GatewayResponseError(
        `Instrument gateway refused the measurement (${
          response.status
        }): ${await excerpt(response)}`,
      );
    }
    let bytes: Uint8Array;
    try {
      bytes = await readLimited(response, this.maxResponseBytes);
    } catch (error) {
      if (error instanceof BodyTooLargeError) {
        throw new GatewayResponseError(
          `Instrument gateway answer is larger than ${this.maxResponseBytes} bytes (maxResponseBytes); the measurement was aborted`,
        );
      }
      throw unreachable(error);
    }
    let body: any;
    try {
      body = JSON.parse(Buffer.from(bytes).toString('utf8'));
    } catch {
      throw new InstrumentFaultError(
        'Instrument gateway answered with invalid JSON',
      );
    }
    if (!body || typeof body.data !== 'object') {
      throw new InstrumentFaultError(
        'Instrument gateway answer has no data object',
      );
    }
    return {
      type: request.measurement.type,
      instrumentRef: request.instrumentRef,
      acquiredAt:
        typeof body.acquiredAt === 'string'
          ? body.acquiredAt
          : new Date().toISOString(),
      units: body.units ?? {},
      data: body.data,
    };
  }

  /** POSTs the request, following only same-origin 307/308 redirects (they keep method and body). */
  private async post(body: string, signal: AbortSignal): Promise<Response> {
    const doFetch = this.options.fetch ?? fetch;
    let url = new URL(`${this.options.endpoint.replace(/\/$/, '')}/measure`);
    for (let hop = 0; ; hop++) {
      const response = await doFetch(url, {
        method: 'POST',
        headers: {
          'Content-Type': 'application/json',
          ...(this.options.token
            ? { Authorization: `Bearer ${this.options.token}` }
            : {}),
        },
        body,
        signal,
        redirect: 'manual',
      });
      if (response.status < 300 || response.status >= 400) return response;
      await response.body?.cancel().catch(() => {});
      const location = response.headers.get('location');
      const target = location ? new URL(location, url) : undefined;
      if (!target || target.origin !== url.origin) {
        throw new GatewayResponseError(
          `Instrument gateway redirected (${response.status}) to ${
            target ? target.origin : 'nowhere'
          }, another origin than ${
            url.origin
          }: redirects to other hosts are not followed; configure the gateway's final address as endpoint`,
        );
      }
      if (response.status !== 307 && response.status !== 308) {
        throw new GatewayResponseError(
          `Instrument gateway redirected (${response.status}) to ${target.pathname}, which would turn the measurement POST into a GET; configure the final address as endpoint`,
        );
      }
      if (hop >= MAX_REDIRECTS) {
        throw new GatewayResponseError(
          `Instrument gateway redirected more than ${MAX_REDIRECTS} times`,
        );
      }
      url = target;
    }
  }
}
