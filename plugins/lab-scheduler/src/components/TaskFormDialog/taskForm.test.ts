import { measurementTypes } from '@lab-scheduler/plugin-lab-scheduler-common';
import { errorsByField, requestErrorMessage } from './humanErrors';
import {
  buildRequest,
  emptyForm,
  formFromTask,
  presetExpression,
  presetOf,
} from './taskForm';
import { makeTask } from '../fakeApi';

const context = {
  typeTitle: (t: string) => measurementTypes[t]?.title ?? t,
  parameterSchema: measurementTypes['plate-od'].parameterSchema,
};

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

  it('reads a preset back from its cron expression, and nothing else', () => {
    expect(presetOf('0 * * * *')).toEqual({ preset: 'hourly' });
    expect(presetOf('5 7 * * *')).toEqual({
      preset: 'daily',
      timeOfDay: '07:05',
    });
    expect(presetOf('30 8 * * 1-5')).toEqual({
      preset: 'weekdays',
      timeOfDay: '08:30',
    });
    for (const custom of [
      '*/5 * * * *',
      '05 7 * * *',
      '0 9 * * 1-6',
      '0 24 * * *',
      '60 9 * * *',
      '0 9 1 * *',
    ])
      expect(presetOf(custom)).toEqual({ preset: 'custom' });
    // Every time of day round-trips through the preset it stands for.
    for (const timeOfDay of ['00:00', '08:30', '23:59'])
      for (const preset of ['daily', 'weekdays'] as const)
        expect(presetOf(presetExpression(preset, timeOfDay, ''))).toEqual({
          preset,
          timeOfDay,
        });
  });

  it('opens a task created with a preset for editing as that preset', () => {
    const task = makeTask(1, {
      schedule: {
        type: 'cron',
        expression: '30 8 * * 1-5',
        timezone: 'Europe/Berlin',
      },
    });
    const values = formFromTask(task);
    expect(values.preset).toBe('weekdays');
    expect(values.timeOfDay).toBe('08:30');
    expect(
      presetExpression(values.preset, values.timeOfDay, values.expression),
    ).toBe('30 8 * * 1-5');
  });

  it("sends the owner's notification choice, failures unless changed", () => {
    const values = {
      ...emptyForm('resource:default/plate-reader-1', 'absorbance-spectrum'),
      name: 'Morning blank',
      scheduleType: 'once' as const,
      at: '2026-12-01T09:00',
      timezone: 'Europe/Berlin',
    };
    expect(buildRequest(values, NOW).body!.policies!.notify).toBe('failures');
    expect(
      buildRequest({ ...values, notify: 'every_run' }, NOW).body!.policies!
        .notify,
    ).toBe('every_run');
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
    // The zone it was entered in goes with it: the task is shown in it later.
    expect(body!.schedule).toEqual({
      type: 'once',
      at: '2026-12-01T08:00:00.000Z',
      timezone: 'Europe/Berlin',
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
      'parameters.startNm',
      'timezone',
    ]);
    // In the form's words, not the API's.
    expect(errors.name).toBe('Enter a name');
    expect(errors.instrumentRef).toBe('Choose an instrument');
    expect(errors['parameters.startNm']).toBe('must be at least 190 nm');
    expect(
      buildRequest({ ...values, parameters: '{oops' }, NOW).errors,
    ).toEqual({ parameters: 'is not valid JSON' });
  });

  it('maps server error details to fields in plain words', () => {
    expect(
      errorsByField(
        [
          {
            path: 'instrumentRef',
            message: "'resource:default/x' is not an instrument in the catalog",
          },
          { path: 'schedule.at', message: 'must not be in the past' },
          {
            path: 'owner',
            message: 'is required when the caller is a service',
          },
          {
            path: 'measurement.type',
            message:
              "'mass-reading' is not supported by resource:default/plate-reader-1, which supports: absorbance-spectrum, plate-od",
          },
          {
            path: 'measurement.parameters.wavelengthNm',
            message: 'must be at most 1100 nm',
          },
          {
            path: 'measurement.parameters.wavelength',
            message: 'is not a known field',
          },
        ],
        context,
      ),
    ).toEqual({
      instrumentRef:
        'This instrument is not in the catalog; choose another one',
      at: 'Pick a time in the future',
      owner: 'is required when the caller is a service',
      measurementType:
        'This instrument does not do Mass reading; it does Absorbance spectrum, Plate optical density',
      'parameters.wavelengthNm': 'must be at most 1100 nm',
      parameters: 'wavelength is not a parameter of this measurement type',
    });
  });

  it('words failed requests by what happened, not by status line', () => {
    const status = (statusCode: number) =>
      Object.assign(new Error(`Request failed with ${statusCode}`), {
        statusCode,
      });
    expect(requestErrorMessage(status(409), 'save this task')).toMatch(
      /^Someone changed this task/,
    );
    expect(requestErrorMessage(status(503), 'save this task')).toBe(
      'The Lab Scheduler could not save this task (server error 503). Try again in a moment.',
    );
    expect(requestErrorMessage(new TypeError('Failed to fetch'), 'x')).toMatch(
      /did not answer/,
    );
  });
});
