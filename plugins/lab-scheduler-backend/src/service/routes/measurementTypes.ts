import {
  HttpAuthService,
  PermissionsService,
} from '@backstage/backend-plugin-api';
import { NotAllowedError } from '@backstage/errors';
import { AuthorizeResult } from '@backstage/plugin-permission-common';
import {
  MeasurementTypeDefinition,
  measurementTypes,
  taskReadPermission,
} from '@lab-scheduler/plugin-lab-scheduler-common';
import express from 'express';
import Router from 'express-promise-router';

export interface MeasurementTypesRouterOptions {
  httpAuth: HttpAuthService;
  permissions: PermissionsService;
  /** The measurement types this backend runs (built in and from modules); the built-in ones when absent. */
  definitions?: () => Iterable<MeasurementTypeDefinition>;
}

/**
 * `GET /measurement-types`: every measurement type with the descriptor of its parameters, so the UI builds
 * its form (and the same validation the server applies) from what this backend actually runs rather than
 * from the types it was compiled with.
 */
export function measurementTypesRouter(
  options: MeasurementTypesRouterOptions,
): express.Router {
  const { httpAuth, permissions } = options;
  const definitions =
    options.definitions ?? (() => Object.values(measurementTypes));
  const router = Router();
  router.get('/measurement-types', async (req, res) => {
    const credentials = await httpAuth.credentials(req, {
      allow: ['user', 'service'],
    });
    // Whoever may read tasks may know what they measure; a conditional decision still lets them read some.
    const [decision] = await permissions.authorizeConditional(
      [{ permission: taskReadPermission }],
      { credentials },
    );
    if (decision.result === AuthorizeResult.DENY) {
      throw new NotAllowedError(`Not allowed: ${taskReadPermission.name}`);
    }
    const items = [...definitions()].map(d => ({
      type: d.type,
      title: d.title,
      description: d.description,
      parameterSchema: d.parameterSchema ?? null,
      expectedDurationSeconds: d.expectedDurationSeconds,
      units: d.units ?? null,
      summaryFields: d.summaryFields ?? null,
      trend: d.trend ?? null,
    }));
    res.json({ items });
  });
  return router;
}
