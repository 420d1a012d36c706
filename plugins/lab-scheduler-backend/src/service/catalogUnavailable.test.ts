import { createServiceFactory } from '@backstage/backend-plugin-api';
import { CatalogClient } from '@backstage/catalog-client';
import { catalogServiceRef } from '@backstage/plugin-catalog-node';
import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import request from 'supertest';
import { createTestDatabases } from '../__testUtils__/databases';
import {
  instrumentEntities,
  orgEntities,
  validTask,
} from '../__testUtils__/fixtures';
import { asUser, startLabSchedulerBackend } from '../__testUtils__/testBackend';

jest.setTimeout(60_000);

const databases = createTestDatabases();
const API = '/api/lab-scheduler';

/**
 * A stand-in for the catalog's HTTP API, answering each entity lookup with what `answer` says: the entity,
 * or an error body as Backstage's error middleware writes it. The plugin reaches it through the real
 * `CatalogClient`, so the errors it sees are the ones a catalog outage produces.
 */
async function startCatalog(
  answer: (ref: string) => { status: number; body: unknown },
): Promise<{ url: string; server: Server; requests: string[] }> {
  const requests: string[] = [];
  const server = createServer((req, res) => {
    requests.push(req.url ?? '');
    // /entities/by-name/{kind}/{namespace}/{name}
    const [kind, namespace, name] = (req.url ?? '')
      .replace(/^.*\/entities\/by-name\//, '')
      .split('/')
      .map(decodeURIComponent);
    const { status, body } = answer(`${kind}:${namespace}/${name}`);
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  });
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, server, requests };
}

function catalogAt(url: string) {
  const client = new CatalogClient({
    discoveryApi: { getBaseUrl: async () => url },
  });
  return createServiceFactory({
    service: catalogServiceRef,
    deps: {},
    factory: () =>
      ({
        getEntityByRef: (ref: string) => client.getEntityByRef(ref),
      } as any),
  });
}

const taskCountIn =
  (knex: Awaited<ReturnType<typeof databases.init>>) => async () =>
    Number((await knex('lab_scheduler_tasks').count({ n: '*' }))[0].n);

const entityFor = (ref: string) =>
  [...instrumentEntities, ...orgEntities].find(
    e =>
      `${e.kind}:${e.metadata.namespace ?? 'default'}/${
        e.metadata.name
      }`.toLocaleLowerCase('en-US') === ref.toLocaleLowerCase('en-US'),
  );

/** What the catalog answered during the rehearsal's PostgreSQL restart: its own database error, as a 500. */
const catalogDatabaseError = {
  status: 500,
  body: {
    error: {
      name: 'Error',
      message:
        'select "final_entities".* from "final_entities" - Connection pool was destroyed',
    },
    request: { method: 'GET', url: '/entities/by-name/resource/default/x' },
    response: { statusCode: 500 },
  },
};

describe.each(databases.eachSupportedId())(
  'task changes while the catalog is unavailable (%s)',
  databaseId => {
    it('answer 503 with Retry-After and store nothing while the catalog fails, and work once it is back', async () => {
      let failing = true;
      const catalog = await startCatalog(ref => {
        if (failing) return catalogDatabaseError;
        const entity = entityFor(ref);
        return entity
          ? { status: 200, body: entity }
          : { status: 404, body: { error: { name: 'NotFoundError' } } };
      });
      const knex = await databases.init(databaseId);
      const taskCount = taskCountIn(knex);
      const backend = await startLabSchedulerBackend(
        knex,
        {
          labScheduler: { dispatcher: { enabled: false } },
        },
        [],
        { catalog: catalogAt(catalog.url) },
      );
      const create = (body: object = validTask) =>
        request(backend.server)
          .post(`${API}/tasks`)
          .set('Authorization', asUser())
          .send(body);
      try {
        const during = await create();
        expect(catalog.requests.length).toBeGreaterThan(0);
        expect(during.status).toBe(503);
        expect(during.headers['retry-after']).toBe('5');
        expect(during.body.error).toEqual({
          name: 'ServiceUnavailableError',
          message:
            'The catalog is unavailable (it answered 500); retry shortly',
        });
        // The catalog's own error (its tables, its pool) stays in the log.
        expect(JSON.stringify(during.body)).not.toContain('final_entities');
        expect(await taskCount()).toBe(0);

        failing = false;
        expect((await create()).status).toBe(201);
        // An answer that is not an outage still reads as one: an unknown instrument is the request's fault.
        const unknown = await create({
          ...validTask,
          instrumentRef: 'resource:default/no-such-instrument',
        });
        expect(unknown.status).toBe(400);
        expect(JSON.stringify(unknown.body)).toContain('instrumentRef');
      } finally {
        await backend.stop();
        catalog.server.close();
      }
    });

    it('answer 503 when the catalog does not answer at all', async () => {
      const catalog = await startCatalog(() => catalogDatabaseError);
      const { url } = catalog;
      await new Promise(resolve => catalog.server.close(resolve));
      const knex = await databases.init(databaseId);
      const taskCount = taskCountIn(knex);
      const backend = await startLabSchedulerBackend(
        knex,
        { labScheduler: { dispatcher: { enabled: false } } },
        [],
        { catalog: catalogAt(url) },
      );
      try {
        const response = await request(backend.server)
          .post(`${API}/tasks`)
          .set('Authorization', asUser())
          .send(validTask);
        expect(response.status).toBe(503);
        expect(response.headers['retry-after']).toBe('5');
        expect(response.body.error.message).toBe(
          'The catalog is unreachable; retry shortly',
        );
        expect(await taskCount()).toBe(0);
      } finally {
        await backend.stop();
      }
    });
  },
);
