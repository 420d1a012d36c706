import {
  parameterSchema,
  toFieldErrors,
} from '@lab-scheduler/plugin-lab-scheduler-common';
import request from 'supertest';
import { createTestDatabases } from '../../__testUtils__/databases';
import { validTask } from '../../__testUtils__/fixtures';
import {
  asService,
  asUser,
  startLabSchedulerBackend,
} from '../../__testUtils__/testBackend';

jest.setTimeout(60_000);

const databases = createTestDatabases();
const API = '/api/lab-scheduler';

describe('GET /measurement-types', () => {
  let backend: Awaited<ReturnType<typeof startLabSchedulerBackend>>;

  beforeAll(async () => {
    backend = await startLabSchedulerBackend(await databases.init('SQLITE_3'));
  });
  afterAll(() => backend.stop());

  it('needs credentials', async () => {
    const res = await request(backend.server).get(`${API}/measurement-types`);
    expect(res.status).toBe(401);
  });

  it('lists every type with its parameter form, to users and services', async () => {
    for (const auth of [asUser(), asService()]) {
      const res = await request(backend.server)
        .get(`${API}/measurement-types`)
        .set('Authorization', auth);
      expect(res.status).toBe(200);
      const plateOd = res.body.items.find((t: any) => t.type === 'plate-od');
      expect(plateOd.title).toBe('Plate optical density');
      expect(plateOd.parameterSchema.parameters).toContainEqual(
        expect.objectContaining({
          name: 'wavelengthNm',
          label: 'Wavelength',
          unit: 'nm',
          min: 190,
          max: 1100,
          default: 600,
        }),
      );
      expect(plateOd.parameterSchema.qc.map((f: any) => f.name)).toEqual([
        'maxCvPercent',
        'maxBlankOd',
      ]);
    }
  });

  it('hands out the rules the server applies: a form built from them refuses what the API refuses', async () => {
    const { body } = await request(backend.server)
      .get(`${API}/measurement-types`)
      .set('Authorization', asUser());
    const descriptor = body.items.find(
      (t: any) => t.type === 'absorbance-spectrum',
    ).parameterSchema;
    const parameters = { startNm: 500, endNm: 400, stepNm: 60 };
    const local = parameterSchema(descriptor).safeParse(parameters);
    expect(local.success).toBe(false);
    const created = await request(backend.server)
      .post(`${API}/tasks`)
      .set('Authorization', asUser())
      .send({
        ...validTask,
        measurement: { type: 'absorbance-spectrum', parameters },
      });
    expect(created.status).toBe(400);
    expect(created.body.error.details).toEqual(
      toFieldErrors(local.error!).map(e => ({
        path: `measurement.parameters.${e.path}`,
        message: e.message,
      })),
    );
  });
});
