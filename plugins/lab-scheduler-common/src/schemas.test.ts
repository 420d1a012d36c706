import {
  createTaskRequestSchema,
  describeFieldErrors,
  listTasksQuerySchema,
  toFieldErrors,
  updateTaskRequestSchema,
  validateScheduleTiming,
} from './schemas';
import { decodeCursor, encodeCursor } from './pagination';

const valid = {
  name: 'Daily blank',
  instrumentRef: 'resource:default/plate-reader-1',
  measurement: { type: 'absorbance-spectrum', parameters: {} },
  schedule: {
    type: 'cron',
    expression: '0 9 * * 1-5',
    timezone: 'Europe/Berlin',
  },
};

function errorsOf(body: unknown) {
  const result = createTaskRequestSchema.safeParse(body);
  return result.success ? [] : toFieldErrors(result.error);
}

describe('task request schemas', () => {
  it('accepts a minimal task and fills measurement defaults', () => {
    const parsed = createTaskRequestSchema.parse(valid);
    expect(parsed.measurement.parameters).toMatchObject({
      startNm: 230,
      endNm: 700,
      stepNm: 2,
    });
    expect(parsed.instrumentRef).toBe('resource:default/plate-reader-1');
  });

  it('keeps the zone a one-time task was entered in, and checks it', () => {
    const once = (timezone: unknown) =>
      createTaskRequestSchema.safeParse({
        ...valid,
        schedule: { type: 'once', at: '2026-12-01T09:00:00Z', timezone },
      });
    expect(once('Asia/Tokyo').data?.schedule).toEqual({
      type: 'once',
      at: '2026-12-01T09:00:00.000Z',
      timezone: 'Asia/Tokyo',
    });
    expect(once('+09:00').error?.issues[0].path).toEqual([
      'schedule',
      'timezone',
    ]);
  });

  it('normalises instants to UTC with milliseconds', () => {
    const parsed = createTaskRequestSchema.parse({
      ...valid,
      schedule: { type: 'once', at: '2026-12-01T10:00:00+01:00' },
    });
    expect(parsed.schedule).toEqual({
      type: 'once',
      at: '2026-12-01T09:00:00.000Z',
    });
  });

  it('names each bad field', () => {
    const errors = errorsOf({
      name: '',
      instrumentRef: 'plate-reader-1',
      owner: 'bob',
      measurement: {
        type: 'absorbance-spectrum',
        parameters: { startNm: 500, endNm: 400 },
      },
      schedule: { type: 'cron', expression: '0 9 * *', timezone: 'Mars/Base' },
      extra: 1,
    });
    const paths = errors.map(e => e.path).sort();
    expect(paths).toEqual([
      'extra',
      'instrumentRef',
      'measurement.parameters.endNm',
      'name',
      'owner',
      'schedule.expression',
      'schedule.timezone',
    ]);
    expect(describeFieldErrors(errors)).toContain(
      'schedule.timezone must be an IANA time zone',
    );
  });

  it('rejects an unknown measurement type and a missing field', () => {
    const { name: _n, ...noName } = valid;
    expect(errorsOf({ ...noName, measurement: { type: 'telepathy' } })).toEqual(
      [
        { path: 'name', message: 'is required' },
        expect.objectContaining({ path: 'measurement.type' }),
      ],
    );
  });

  it('counts characters, not UTF-16 units, for the name limit', () => {
    expect(errorsOf({ ...valid, name: '🧪'.repeat(200) })).toEqual([]);
    expect(errorsOf({ ...valid, name: '🧪'.repeat(201) })[0].path).toBe('name');
  });

  it('accepts a partial update with a version', () => {
    expect(updateTaskRequestSchema.parse({ name: 'x', version: 3 })).toEqual({
      name: 'x',
      version: 3,
    });
    expect(updateTaskRequestSchema.safeParse({ version: 0 }).success).toBe(
      false,
    );
  });

  it('checks timing against the clock', () => {
    const now = Date.parse('2026-11-27T12:00:00Z');
    expect(
      validateScheduleTiming(
        { type: 'once', at: '2026-11-27T11:00:00.000Z' },
        now,
      ),
    ).toEqual([{ path: 'schedule.at', message: 'must not be in the past' }]);
    expect(
      validateScheduleTiming(
        {
          type: 'cron',
          expression: '0 9 * * *',
          timezone: 'UTC',
          endAt: '2026-11-27T11:00:00.000Z',
        },
        now,
      )[0].path,
    ).toBe('schedule.endAt');
    expect(
      validateScheduleTiming(
        {
          type: 'cron',
          expression: '0 9 * * *',
          timezone: 'UTC',
          startAt: '2026-11-28T10:00:00.000Z',
          endAt: '2026-11-28T11:00:00.000Z',
        },
        now,
      )[0].message,
    ).toMatch(/never fires/);
  });

  it('validates list queries', () => {
    expect(listTasksQuerySchema.parse({ limit: '200' }).limit).toBe(200);
    for (const limit of ['0', '201', '-1', '1.5', 'abc', '']) {
      expect(listTasksQuerySchema.safeParse({ limit }).success).toBe(false);
    }
    expect(listTasksQuerySchema.safeParse({ limit: ['1', '2'] }).success).toBe(
      false,
    );
    expect(listTasksQuerySchema.safeParse({ state: 'sleeping' }).success).toBe(
      false,
    );
    expect(listTasksQuerySchema.safeParse({ page: '2' }).success).toBe(false);
  });
});

describe('cursors', () => {
  it('round-trips and rejects garbage', () => {
    const cursor = encodeCursor({ k: 1796115600000, id: 'abc' });
    expect(decodeCursor(cursor)).toEqual({ k: 1796115600000, id: 'abc' });
    expect(decodeCursor('not a cursor!')).toBeUndefined();
    expect(decodeCursor('eyJ4IjoxfQ')).toBeUndefined(); // {"x":1}
  });
});

describe('hostile input', () => {
  const now = Date.parse('2026-11-28T12:00:00Z');

  it.each(['__proto__', 'constructor', 'toString', 'hasOwnProperty'])(
    'refuses measurement type %s as unknown (not a member of Object.prototype)',
    type => {
      expect(
        errorsOf({ ...valid, measurement: { type, parameters: {} } }),
      ).toEqual([
        expect.objectContaining({
          path: 'measurement.type',
          message: expect.stringContaining('unknown measurement type'),
        }),
      ]);
    },
  );

  it.each(['__proto__', 'constructor', 'prototype'])(
    'refuses %s among the measurement parameters instead of dropping it',
    key => {
      const body = JSON.parse(
        JSON.stringify({ ...valid, measurement: { type: 'plate-od' } }),
      );
      body.measurement.parameters = JSON.parse(`{"${key}":{"shakeSeconds":5}}`);
      expect(errorsOf(body)).toEqual([
        {
          path: `measurement.parameters.${key}`,
          message: 'is not allowed as a field name',
        },
      ]);
    },
  );

  it('refuses a cursor whose id is not an id (a NUL would reach the database)', () => {
    expect(decodeCursor(encodeCursor({ k: 1, id: 'a\u0000' }))).toBeUndefined();
    expect(
      decodeCursor(encodeCursor({ k: 1, id: "' or 1=1" })),
    ).toBeUndefined();
    const id = '0190a1b2-0000-7000-8000-000000000001';
    expect(decodeCursor(encodeCursor({ k: 1, id }))).toEqual({ k: 1, id });
  });

  it('refuses a control character in a sample id', () => {
    expect(
      errorsOf({
        ...valid,
        measurement: {
          type: 'absorbance-spectrum',
          parameters: { sampleId: 'S-1\u0000' },
        },
      }).map(e => e.path),
    ).toEqual(['measurement.parameters.sampleId']);
  });

  it.each(['+05:00', '-0300', 'UTC+5', 'Europe/Berlin/', '../etc/passwd'])(
    'refuses the time zone %s (only IANA names)',
    timezone => {
      expect(
        errorsOf({ ...valid, schedule: { ...valid.schedule, timezone } }),
      ).toEqual([
        {
          path: 'schedule.timezone',
          message: 'must be an IANA time zone name, e.g. Europe/Berlin',
        },
      ]);
    },
  );

  it.each(['UTC', 'Etc/GMT+5', 'America/Port-au-Prince', 'EST5EDT'])(
    'accepts the IANA zone %s',
    timezone => {
      expect(
        errorsOf({ ...valid, schedule: { ...valid.schedule, timezone } }),
      ).toEqual([]);
    },
  );

  it('refuses instants more than 10 years ahead, naming each field', () => {
    const ahead = (years: number) =>
      new Date(now + years * 365.25 * 86_400_000).toISOString();
    expect(
      validateScheduleTiming({ type: 'once', at: ahead(10.1) }, now),
    ).toEqual([
      { path: 'schedule.at', message: 'must be at most 10 years from now' },
    ]);
    expect(
      validateScheduleTiming({ type: 'once', at: '9999-12-31T23:59:59Z' }, now),
    ).toHaveLength(1);
    expect(
      validateScheduleTiming(
        {
          type: 'cron',
          expression: '0 9 * * *',
          timezone: 'UTC',
          startAt: ahead(11),
          endAt: ahead(12),
        },
        now,
      ).map(e => e.path),
    ).toEqual(['schedule.startAt', 'schedule.endAt']);
    expect(
      validateScheduleTiming({ type: 'once', at: ahead(9.9) }, now),
    ).toEqual([]);
  });
});
