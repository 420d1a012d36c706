import { Entity } from '@backstage/catalog-model';

export const instrumentEntities: Entity[] = [
  {
    apiVersion: 'backstage.io/v1alpha1',
    kind: 'Resource',
    metadata: {
      name: 'plate-reader-1',
      namespace: 'default',
      annotations: {
        'lab-scheduler.io/measurement-types': 'absorbance-spectrum,plate-od',
      },
    },
    spec: { type: 'instrument', owner: 'group:default/lab-ops' },
  },
  {
    apiVersion: 'backstage.io/v1alpha1',
    kind: 'Resource',
    metadata: {
      name: 'ph-meter-1',
      namespace: 'default',
      annotations: { 'lab-scheduler.io/measurement-types': 'ph-timeseries' },
    },
    spec: { type: 'instrument', owner: 'group:default/lab-ops' },
  },
  {
    apiVersion: 'backstage.io/v1alpha1',
    kind: 'Resource',
    metadata: {
      name: 'balance-1',
      namespace: 'default',
      annotations: {
        'lab-scheduler.io/measurement-types': 'mass-reading',
        'lab-scheduler.io/capacity': '3',
      },
    },
    spec: { type: 'instrument', owner: 'group:default/lab-ops' },
  },
  {
    apiVersion: 'backstage.io/v1alpha1',
    kind: 'Resource',
    metadata: { name: 'postgres-db', namespace: 'default' },
    spec: { type: 'database', owner: 'group:default/lab-ops' },
  },
];

/** The test users and groups (as in examples/org.yaml, plus `viewer`): tasks may only be owned by these. */
export const orgEntities: Entity[] = [
  ...['lab-ops', 'assay-dev'].map(name => ({
    apiVersion: 'backstage.io/v1alpha1',
    kind: 'Group',
    metadata: { name, namespace: 'default' },
    spec: { type: 'team', children: [] },
  })),
  ...['ada', 'rosalind', 'marie', 'viewer'].map(name => ({
    apiVersion: 'backstage.io/v1alpha1',
    kind: 'User',
    metadata: { name, namespace: 'default' },
    spec: {},
  })),
];

export const validTask = {
  name: 'Daily blank check',
  description: 'Blank absorbance before the morning runs',
  instrumentRef: 'resource:default/plate-reader-1',
  measurement: { type: 'absorbance-spectrum', parameters: {} },
  schedule: {
    type: 'cron',
    expression: '0 9 * * 1-5',
    timezone: 'Europe/Berlin',
  },
};
