import { startTestBackend } from '@backstage/backend-test-utils';
import { ConfigReader } from '@backstage/config';
import { InstrumentDriverFactory } from '@lab-scheduler/plugin-lab-scheduler-node';
import { instrumentDriversExtensionPoint } from '@lab-scheduler/plugin-lab-scheduler-node/alpha';
import labSchedulerModuleHttpGateway, {
  HttpInstrumentDriver,
  httpGatewayDriverFactory,
} from '.';

describe('the http-gateway module', () => {
  it('adds the http driver factory through instrumentDriversExtensionPoint', async () => {
    const added: InstrumentDriverFactory[] = [];
    const backend = await startTestBackend({
      extensionPoints: [
        [
          instrumentDriversExtensionPoint,
          { addDriverFactory: factory => added.push(factory) },
        ],
      ],
      features: [labSchedulerModuleHttpGateway],
    });
    try {
      expect(added).toEqual([httpGatewayDriverFactory]);
    } finally {
      await backend.stop();
    }
  });

  it('makes a gateway driver from an instrument entry', () => {
    const driver = httpGatewayDriverFactory.create({
      instrumentRef: 'resource:default/plate-reader-1',
      config: new ConfigReader({
        instrumentRef: 'resource:default/plate-reader-1',
        driver: 'http',
        endpoint: 'https://gateway.lab.example.com/plate-reader-1',
        timeoutMs: 5000,
      }),
    });
    expect(httpGatewayDriverFactory.name).toBe('http');
    expect(driver).toBeInstanceOf(HttpInstrumentDriver);
    expect(driver.name).toBe('http');
    expect(() =>
      httpGatewayDriverFactory.create({
        instrumentRef: 'resource:default/plate-reader-1',
        config: new ConfigReader({
          instrumentRef: 'resource:default/plate-reader-1',
        }),
      }),
    ).toThrow(/endpoint/);
  });
});
