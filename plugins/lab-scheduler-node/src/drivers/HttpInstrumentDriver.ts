import {
  InstrumentDriver,
  InstrumentFaultError,
  MeasurementRequest,
  RawMeasurement,
} from './InstrumentDriver';

export interface HttpInstrumentDriverOptions {
  /** Base URL of the instrument gateway; the driver POSTs to `${endpoint}/measure`. */
  endpoint: string;
  /** Bearer token for the gateway, if it needs one. */
  token?: string;
  /** Abort the request after this many ms. Default 60 000. */
  timeoutMs?: number;
  fetch?: typeof fetch;
}

/**
 * Drives a real instrument through an HTTP gateway:
 * `POST {endpoint}/measure` with `{ runId, instrumentRef, measurement, scheduledFor }`, answered with
 * `{ acquiredAt?, units, data }`. 5xx, timeouts and network errors are instrument faults (retried);
 * 4xx are permanent errors.
 */
export class HttpInstrumentDriver implements InstrumentDriver {
  readonly name = 'http';

  constructor(private readonly options: HttpInstrumentDriverOptions) {}

  async measure(
    request: MeasurementRequest,
    options: { signal?: AbortSignal } = {},
  ): Promise<RawMeasurement> {
    const timeout = AbortSignal.timeout(this.options.timeoutMs ?? 60_000);
    const signal = options.signal
      ? AbortSignal.any([options.signal, timeout])
      : timeout;
    const doFetch = this.options.fetch ?? fetch;
    let response: Response;
    try {
      response = await doFetch(
        `${this.options.endpoint.replace(/\/$/, '')}/measure`,
        {
          method: 'POST',
          headers: {
            'Content-Type': 'application/json',
            ...(this.options.token
              ? { Authorization: `Bearer ${this.options.token}` }
              : {}),
          },
          body: JSON.stringify(request),
          signal,
        },
      );
    } catch (error) {
      const reason = timeout.aborted
        ? `timed out after ${this.options.timeoutMs ?? 60_000} ms`
        : String(error);
      throw new InstrumentFaultError(
        `Instrument gateway unreachable: ${reason}`,
      );
    }
    const text = await response.text();
    if (response.status >= 500) {
      throw new InstrumentFaultError(
        `Instrument gateway answered ${response.status}: ${text.slice(0, 300)}`,
      );
    }
    if (!response.ok) {
      throw new Error(
        `Instrument gateway refused the measurement (${
          response.status
        }): ${text.slice(0, 300)}`,
      );
    }
    let body: any;
    try {
      body = JSON.parse(text);
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
}
