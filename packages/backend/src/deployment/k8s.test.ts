import { execFileSync } from 'node:child_process';
import {
  cpSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
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

/** A generated ConfigMap: its name is the generator's plus kustomize's content hash. */
const findGenerated = (objects: K8sObject[], name: string) => {
  const found = objects.filter(
    o =>
      o.kind === 'ConfigMap' &&
      new RegExp(`^${name}-[a-z0-9]{10}$`).test(o.metadata.name),
  );
  if (found.length !== 1) throw new Error(`ConfigMap ${name}-<hash> missing`);
  return found[0];
};

/** Seconds in a Backstage duration object such as `{ seconds: 20 }`. */
const seconds = (duration: Record<string, number>) =>
  (duration.milliseconds ?? 0) / 1000 +
  (duration.seconds ?? 0) +
  (duration.minutes ?? 0) * 60;

/** `kubectl kustomize` (kubectl 1.32 is on these machines and in CI). */
const kubectlKustomize = (dir: string): K8sObject[] =>
  parseAllDocuments(
    execFileSync('kubectl', ['kustomize', dir], { encoding: 'utf8' }),
  ).map(d => d.toJSON());

const byKindAndName = (objects: K8sObject[]) =>
  [...objects].sort((a, b) =>
    `${a.kind}/${a.metadata.name}`.localeCompare(
      `${b.kind}/${b.metadata.name}`,
    ),
  );

describe.each(['prod', 'dev'])('k8s overlay %s', overlay => {
  const objects = renderKustomization(join(root, 'k8s/overlays', overlay));
  const api = find(objects, 'Deployment', 'lab-scheduler-api');
  const scheduler = find(objects, 'Deployment', 'lab-scheduler-scheduler');
  const env = (d: K8sObject) =>
    Object.fromEntries(
      d.spec.template.spec.containers[0].env.map((e: any) => [e.name, e.value]),
    );

  it('validates every object against the Kubernetes schemas', () => {
    expect(
      objects
        .map(o => `${o.kind}/${o.metadata.name.replace(/-[a-z0-9]{10}$/, '')}`)
        .sort(),
    ).toEqual(
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
    const config = findGenerated(objects, 'lab-scheduler-app-config').data[
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

  it('renders exactly what kubectl kustomize renders', () => {
    expect(byKindAndName(objects)).toEqual(
      byKindAndName(kubectlKustomize(join(root, 'k8s/overlays', overlay))),
    );
  });

  it('rolls the pods when a ConfigMap changes (content-hashed names, referenced by the pod templates)', () => {
    const appConfig = findGenerated(objects, 'lab-scheduler-app-config');
    const envConfig = findGenerated(objects, 'lab-scheduler-env');
    for (const d of [api, scheduler]) {
      const pod = d.spec.template.spec;
      expect(pod.volumes).toContainEqual({
        name: 'app-config',
        configMap: { name: appConfig.metadata.name },
      });
      expect(pod.containers[0].envFrom).toContainEqual({
        configMapRef: { name: envConfig.metadata.name },
      });
    }
    // Edit a copy of the manifests: one changed value must change both Deployments' pod templates.
    const copy = mkdtempSync(join(tmpdir(), 'k8s-copy-'));
    try {
      cpSync(join(root, 'k8s'), join(copy, 'k8s'), { recursive: true });
      const file = join(copy, 'k8s/base/app-config.production.yaml');
      writeFileSync(
        file,
        readFileSync(file, 'utf8').replace('lease: 30s', 'lease: 45s'),
      );
      const changed = renderKustomization(join(copy, 'k8s/overlays', overlay));
      for (const name of ['lab-scheduler-api', 'lab-scheduler-scheduler'])
        expect(
          find(changed, 'Deployment', name).spec.template.spec.volumes,
        ).not.toEqual(
          find(objects, 'Deployment', name).spec.template.spec.volumes,
        );
    } finally {
      rmSync(copy, { recursive: true, force: true });
    }
  });

  it('caps the Node heap below the memory limit (about 75 %)', () => {
    const mebibytes = (quantity: string) => {
      const match = /^(\d+)(Mi|Gi)$/.exec(quantity);
      if (!match) throw new Error(`unexpected quantity ${quantity}`);
      return Number(match[1]) * (match[2] === 'Gi' ? 1024 : 1);
    };
    for (const d of [api, scheduler]) {
      const limit = mebibytes(
        d.spec.template.spec.containers[0].resources.limits.memory,
      );
      const heap = Number(
        /--max-old-space-size=(\d+)/.exec(env(d).NODE_OPTIONS)?.[1],
      );
      expect(heap / limit).toBeGreaterThanOrEqual(0.6);
      expect(heap / limit).toBeLessThanOrEqual(0.8);
    }
  });

  it('admits the load balancer from the VPC range to the api only, and limits egress', () => {
    const apiPolicy = find(objects, 'NetworkPolicy', 'lab-scheduler-api');
    const schedulerPolicy = find(
      objects,
      'NetworkPolicy',
      'lab-scheduler-scheduler',
    );
    const base = renderKustomization(join(root, 'k8s/base'));
    const baseCidr = find(base, 'NetworkPolicy', 'lab-scheduler-api').spec
      .ingress[0].from[0].ipBlock.cidr;
    const cidrs = [apiPolicy, schedulerPolicy].flatMap(p =>
      [...(p.spec.ingress ?? []), ...p.spec.egress].flatMap((rule: any) =>
        [...(rule.from ?? []), ...(rule.to ?? [])]
          .filter((peer: any) => peer.ipBlock)
          .map((peer: any) => peer.ipBlock.cidr),
      ),
    );
    // Every VPC range in the overlay is its own (a patch that misses one leaves the base's).
    expect(cidrs).toHaveLength(3);
    expect(new Set(cidrs).size).toBe(1);
    expect(cidrs[0]).not.toBe(baseCidr);
    expect(cidrs[0]).toMatch(/^\d+\.\d+\.\d+\.\d+\/\d+$/);

    expect(apiPolicy.spec.ingress).toEqual([
      {
        from: [{ ipBlock: { cidr: cidrs[0] } }],
        ports: [{ port: 7007, protocol: 'TCP' }],
      },
    ]);
    expect(schedulerPolicy.spec.policyTypes).toContain('Ingress');
    expect(schedulerPolicy.spec.ingress).toEqual([]);
    for (const policy of [apiPolicy, schedulerPolicy]) {
      const egressTo = (port: number) =>
        policy.spec.egress.find((rule: any) =>
          rule.ports.some((p: any) => p.port === port),
        );
      expect(egressTo(5432).to).toEqual([{ ipBlock: { cidr: cidrs[0] } }]);
      expect(egressTo(4318).to).toEqual([
        {
          namespaceSelector: {
            matchLabels: { 'kubernetes.io/metadata.name': 'observability' },
          },
          podSelector: { matchLabels: { app: 'adot-collector' } },
        },
      ]);
      expect(egressTo(443).to).toBeUndefined();
    }
  });

  it('drains the api on SIGTERM: readiness fails first, the load balancer notices within the delay, the grace period covers it', () => {
    const config = parse(
      findGenerated(objects, 'lab-scheduler-app-config').data[
        'app-config.production.yaml'
      ],
    );
    const delay = seconds(config.backend.lifecycle.serverShutdownDelay);
    expect(delay).toBeGreaterThanOrEqual(10);
    const pod = api.spec.template.spec;
    const readiness = pod.containers[0].readinessProbe;
    expect(readiness.httpGet.path).toBe('/.backstage/health/v1/readiness');
    expect(readiness.periodSeconds * readiness.failureThreshold).toBeLessThan(
      delay,
    );
    // Delay, then up to 30 s for requests in flight, inside the grace period.
    expect(pod.terminationGracePeriodSeconds).toBeGreaterThanOrEqual(
      delay + 30,
    );
    const annotations = find(objects, 'Ingress', 'lab-scheduler').metadata
      .annotations!;
    expect(annotations['alb.ingress.kubernetes.io/healthcheck-path']).toBe(
      '/.backstage/health/v1/readiness',
    );
    expect(
      Number(
        annotations['alb.ingress.kubernetes.io/healthcheck-interval-seconds'],
      ) *
        Number(
          annotations['alb.ingress.kubernetes.io/unhealthy-threshold-count'],
        ),
    ).toBeLessThan(delay);
    expect(
      annotations['alb.ingress.kubernetes.io/target-group-attributes'],
    ).toMatch(/deregistration_delay\.timeout_seconds=30\b/);
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

describe('the ADOT collector (k8s/observability)', () => {
  const objects: K8sObject[] = parseAllDocuments(
    readFileSync(join(root, 'k8s/observability/adot-collector.yaml'), 'utf8'),
  ).map(d => d.toJSON());

  it('validates against the Kubernetes schemas', () => {
    expect(validate(objects)).toEqual([]);
  });

  it('probes the health_check extension the collector runs', () => {
    const collector = parse(
      find(objects, 'ConfigMap', 'adot-collector-config').data['config.yaml'],
    );
    expect(collector.service.extensions).toContain('health_check');
    const port = Number(
      /:(\d+)$/.exec(collector.extensions.health_check.endpoint)?.[1],
    );
    const container = find(objects, 'Deployment', 'adot-collector').spec
      .template.spec.containers[0];
    const named = (name: string) =>
      container.ports.find((p: any) => p.name === name)?.containerPort;
    for (const probe of [container.readinessProbe, container.livenessProbe]) {
      expect(probe.httpGet.path).toBe('/');
      expect(named(probe.httpGet.port)).toBe(port);
    }
  });
});
