import { CustomErrorBase, InputError, serializeError } from '@backstage/errors';
import {
  describeFieldErrors,
  FieldError,
} from '@lab-scheduler/plugin-lab-scheduler-common';
import { ErrorRequestHandler } from 'express';

/** A 400 whose message names every bad field, with the same list as structured `details`. */
export class RequestValidationError extends InputError {
  readonly details: FieldError[];

  constructor(details: FieldError[]) {
    super(`Invalid request: ${describeFieldErrors(details)}`);
    this.details = details;
  }
}

// Backstage's error middleware answers an error's own `statusCode`; @backstage/errors has no type
// for these two.

/** 413: the request body is over the configured limit. */
export class PayloadTooLargeError extends CustomErrorBase {
  name = 'PayloadTooLargeError' as const;
  readonly statusCode = 413;
}

/** 415: the request body is not JSON, or not in an encoding the server reads. */
export class UnsupportedMediaTypeError extends CustomErrorBase {
  name = 'UnsupportedMediaTypeError' as const;
  readonly statusCode = 415;
}

/**
 * The JSON body parser's errors as typed errors whose messages tell an API caller what to change;
 * other errors pass unchanged.
 */
export function bodyParserErrors(options: {
  maxBodySize: string;
}): ErrorRequestHandler {
  return (error, _req, _res, next) => {
    switch (error?.type) {
      case 'entity.too.large':
        next(
          new PayloadTooLargeError(
            `Request body is larger than ${options.maxBodySize}`,
          ),
        );
        return;
      case 'entity.parse.failed':
        next(new InputError('Request body is not valid JSON'));
        return;
      case 'encoding.unsupported':
      case 'charset.unsupported':
        next(new UnsupportedMediaTypeError(error.message));
        return;
      default:
        next(error);
    }
  };
}

/**
 * What Backstage's error middleware lacks: the per-field `details` of a 400, in its error shape.
 * Every other error goes on to it.
 */
export const validationDetails: ErrorRequestHandler = (
  error,
  req,
  res,
  next,
) => {
  if (!(error instanceof RequestValidationError)) {
    next(error);
    return;
  }
  res.status(400).json({
    error: { ...serializeError(error), details: error.details },
    request: { method: req.method, url: req.originalUrl },
    response: { statusCode: 400 },
  });
};
