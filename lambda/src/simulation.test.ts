import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { settingsFromEnv } from './config';

/** The Lambda's drivers: gateways for the instruments listed, the simulation only when allowed. */
describe('the Lambda without a gateway for an instrument', () => {
  const env = {
    LAB_SCHEDULER_API_URL: 'http://127.0.0.1:1/api/lab-scheduler',
    LAB_SCHEDULER_SERVICE_TOKEN: 'token',
    RAW_DATA_DIRECTORY: mkdtempSync(join(tmpdir(), 'raw-')),
    INSTRUMENT_GATEWAYS: JSON.stringify([
      {
        instrumentRef: 'resource:default/ph-meter-1',
        endpoint: 'http://127.0.0.1:1',
      },
    ]),
  };

  it('refuses to measure it unless SIMULATED_INSTRUMENTS_ALLOWED is true', async () => {
    const { drivers } = await settingsFromEnv(env);
    expect(drivers.has('resource:default/ph-meter-1')).toBe(true);
    expect(drivers.driverFor('resource:default/ph-meter-1').name).toBe('http');
    expect(drivers.has('resource:default/plate-reader-1')).toBe(false);
    expect(() => drivers.driverFor('resource:default/plate-reader-1')).toThrow(
      /NoInstrumentDriverError|No instrument driver is configured for resource:default\/plate-reader-1/,
    );
  });

  it('simulates it when SIMULATED_INSTRUMENTS_ALLOWED is true', async () => {
    const { drivers } = await settingsFromEnv({
      ...env,
      SIMULATED_INSTRUMENTS_ALLOWED: 'true',
    });
    expect(drivers.driverFor('resource:default/plate-reader-1').name).toBe(
      'simulated',
    );
  });
});
