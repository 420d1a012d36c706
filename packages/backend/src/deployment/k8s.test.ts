import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import {
  K8sObject,
  renderKustomization,
  repoRoot,
} from './__testUtils__/kustomize';

const root = repoRoot();

function validate(objects: K8sObject[]) {
  const file = join(mkdtempSync(join(tmpdir(), 'k8s-')), 'objects.json');
  writeFileSync(file, JSON.stringify(objects));
  const out = execFileSync(
    process.execPath,
    [join(__dirname, '__testUtils__/validate.mjs'), file],
    {
      cwd: root,
    },
  ).toString();
  return JSON.parse(out);
}

const find = (objects: K8sObject[], kind: string, name: string) => {
  const found = objects.find(o => o.kind === kind && o.metadata.name === name);
  if (!found) throw new Error(`${kind}/${name} missing`);
  return found;
};

describe.each(['prod', 'dev'])('k8s overlay %s', overlay => {
  const objects = renderKustomization(join(root, 'k8s/overlays', overlay));
  const api = find(objects, 'Deployment', 'lab-scheduler-api');
  const scheduler = find(objects, 'Deployment', 'lab-scheduler-scheduler');
  const env = (d: K8sObject) =>
    Object.fromEntries(
      d.spec.template.spec.containers[0].env.map((e: any) => [e.name, e.value]),
    );

  it('validates every object against the Kubernetes schemas', () => {
    expect(objects.map(o => `${o.kind}/${o.metadata.name}`).sort()).toEqual(
      [
        'ConfigMap/lab-scheduler-app-config',
        'ConfigMap/lab-scheduler-env',
        'Deployment/lab-scheduler-api',
        'Deployment/lab-scheduler-scheduler',
        'HorizontalPodAutoscaler/lab-scheduler-api',
        'Ingress/lab-scheduler',
        'NetworkPolicy/lab-scheduler-api',
        'NetworkPolicy/lab-scheduler-scheduler',
        'PodDisruptionBudget/lab-scheduler-api',
        'PodDisruptionBudget/lab-scheduler-scheduler',
        'Service/lab-scheduler-api',
        'ServiceAccount/lab-scheduler',
      ].sort(),
    );
    expect(validate(objects)).toEqual([]);
    expect(
      objects.every(o => o.metadata.namespace?.startsWith('lab-scheduler')),
    ).toBe(true);
  });

  it('runs the API without and the scheduler with the dispatcher, from one image', () => {
    expect(env(api).LAB_SCHEDULER_DISPATCHER_ENABLED).toBe('false');
    expect(env(scheduler).LAB_SCHEDULER_DISPATCHER_ENABLED).toBe('true');
    const image = (d: K8sObject) => d.spec.template.spec.containers[0].image;
    expect(image(api)).toBe(image(scheduler));
    expect(image(api)).toMatch(/:[0-9][^:]*$/);
    expect(image(api)).not.toMatch(/:latest$/);
  });

  it('keeps at least two replicas of each, spread across zones, with disruption budgets and an HPA', () => {
    for (const d of [api, scheduler]) {
      expect(d.spec.replicas).toBeGreaterThanOrEqual(2);
      expect(
        d.spec.template.spec.topologySpreadConstraints.map(
          (c: any) => c.topologyKey,
        ),
      ).toContain('topology.kubernetes.io/zone');
    }
    const hpa = find(objects, 'HorizontalPodAutoscaler', 'lab-scheduler-api');
    expect(hpa.spec.scaleTargetRef.name).toBe('lab-scheduler-api');
    expect(hpa.spec.minReplicas).toBeGreaterThanOrEqual(2);
    expect(hpa.spec.metrics[0].resource.name).toBe('cpu');
    expect(
      find(objects, 'PodDisruptionBudget', 'lab-scheduler-scheduler').spec
        .minAvailable,
    ).toBe(1);
  });

  it('probes Backstage health endpoints and runs locked down', () => {
    for (const d of [api, scheduler]) {
      const pod = d.spec.template.spec;
      const c = pod.containers[0];
      expect(c.startupProbe.httpGet.path).toBe(
        '/.backstage/health/v1/liveness',
      );
      expect(c.livenessProbe.httpGet.path).toBe(
        '/.backstage/health/v1/liveness',
      );
      expect(c.readinessProbe.httpGet.path).toBe(
        '/.backstage/health/v1/readiness',
      );
      expect(c.resources.requests.cpu).toBeDefined();
      expect(c.resources.limits.memory).toBeDefined();
      expect(pod.securityContext.runAsNonRoot).toBe(true);
      expect(c.securityContext).toMatchObject({
        allowPrivilegeEscalation: false,
        readOnlyRootFilesystem: true,
        capabilities: { drop: ['ALL'] },
      });
      expect(pod.serviceAccountName).toBe('lab-scheduler');
      // Secrets come by reference only.
      expect(c.envFrom).toEqual(
        expect.arrayContaining([
          { secretRef: { name: 'lab-scheduler-secrets' } },
        ]),
      );
    }
    expect(objects.some(o => o.kind === 'Secret')).toBe(false);
    const sa = find(objects, 'ServiceAccount', 'lab-scheduler');
    expect(sa.metadata.annotations!['eks.amazonaws.com/role-arn']).toMatch(
      /^arn:aws:iam::\d{12}:role\/lab-scheduler-backend/,
    );
  });

  it('mounts the production app-config (kept identical to the root file), which has no secret values', () => {
    const config = find(objects, 'ConfigMap', 'lab-scheduler-app-config').data[
      'app-config.production.yaml'
    ];
    expect(config).toBe(
      readFileSync(join(root, 'app-config.production.yaml'), 'utf8'),
    );
    const parsed = parse(config);
    expect(parsed.backend.database.client).toBe('pg');
    expect(parsed.backend.auth.externalAccess[0].options.token).toBe(
      '${LAB_SCHEDULER_SERVICE_TOKEN}',
    );
    expect(parsed.labScheduler.queue.type).toBe('sqs');
    expect(parsed.auth.providers.guest).toBeUndefined();
    expect(config).not.toMatch(/dev-token-change-me/);
  });
});

describe('schema validation', () => {
  it('rejects a malformed object (the check is not a no-op)', () => {
    const broken: K8sObject = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'broken' },
      spec: {
        replicas: 'two',
        selector: {},
        template: { spec: { containers: [{ image: 'x' }] } },
      },
    };
    expect(validate([broken])).toEqual([
      expect.objectContaining({ kind: 'Deployment', name: 'broken' }),
    ]);
  });
});
