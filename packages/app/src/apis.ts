import { AnyApiFactory } from '@backstage/core-plugin-api';

/** The demo app adds no APIs of its own: the Lab Scheduler plugin brings its client. */
export const apis: AnyApiFactory[] = [];
