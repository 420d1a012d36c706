import {
  buildRequest,
  emptyForm,
  errorsByField,
  presetExpression,
} from './taskForm';

const NOW = Date.parse('2026-11-27T12:00:00Z');

describe('task form', () => {
  it('turns presets into cron expressions', () => {
    expect(presetExpression('hourly', '09:30', '')).toBe('0 * * * *');
    expect(presetExpression('daily', '07:05', '')).toBe('5 7 * * *');
    expect(presetExpression('weekdays', '18:00', '')).toBe('0 18 * * 1-5');
    expect(presetExpression('custom', '18:00', '*/5 * * * *')).toBe(
      '*/5 * * * *',
    );
  });

  it('builds a valid request and interprets one-time input in the chosen zone', () => {
    const values = {
      ...emptyForm('resource:default/plate-reader-1', 'absorbance-spectrum'),
      name: 'Morning blank',
      scheduleType: 'once' as const,
      at: '2026-12-01T09:00',
      timezone: 'Europe/Berlin',
    };
    const { body, errors } = buildRequest(values, NOW);
    expect(errors).toEqual({});
    expect(body!.schedule).toEqual({
      type: 'once',
      at: '2026-12-01T08:00:00.000Z',
    });
  });

  it('reports client-side errors on the right fields', () => {
    const values = {
      ...emptyForm('', 'absorbance-spectrum'),
      name: '',
      preset: 'custom' as const,
      expression: '61 * * * *',
      timezone: 'Mars/Olympus',
      parameters: '{"startNm": 5}',
    };
    const { body, errors } = buildRequest(values, NOW);
    expect(body).toBeUndefined();
    expect(Object.keys(errors).sort()).toEqual([
      'expression',
      'instrumentRef',
      'name',
      'parameters',
      'timezone',
    ]);
    expect(
      buildRequest({ ...values, parameters: '{oops' }, NOW).errors,
    ).toEqual({ parameters: 'must be valid JSON' });
  });

  it('maps server error details to fields', () => {
    expect(
      errorsByField([
        {
          path: 'instrumentRef',
          message: "'resource:default/x' is not an instrument in the catalog",
        },
        { path: 'schedule.at', message: 'must not be in the past' },
        { path: 'owner', message: 'is required when the caller is a service' },
      ]),
    ).toEqual({
      instrumentRef: "'resource:default/x' is not an instrument in the catalog",
      at: 'must not be in the past',
      form: 'owner is required when the caller is a service',
    });
  });
});
