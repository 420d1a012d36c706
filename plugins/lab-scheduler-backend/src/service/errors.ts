import { InputError } from '@backstage/errors';
import {
  describeFieldErrors,
  FieldError,
} from '@lab-scheduler/plugin-lab-scheduler-common';

/** A 400 whose message names every bad field, with the same list as structured `details`. */
export class RequestValidationError extends InputError {
  readonly details: FieldError[];

  constructor(details: FieldError[]) {
    super(`Invalid request: ${describeFieldErrors(details)}`);
    this.details = details;
  }
}

/** An error answered with an explicit HTTP status, in Backstage's error shape. */
export class HttpStatusError extends Error {
  constructor(readonly statusCode: number, name: string, message: string) {
    super(message);
    this.name = name;
  }
}
