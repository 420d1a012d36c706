import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { parseAllDocuments } from 'yaml';

/**
 * A small, offline kustomize renderer for the features the manifests in k8s/ use: resources (files and
 * bases), namespace, images, labels, configMapGenerator (files and literals, with kustomize's content
 * hash name suffix and the Pod templates' references renamed to match) and JSON 6902 patches with
 * kind/name targets. No kustomize binary exists on these machines, but `kubectl kustomize` does:
 * k8s.test.ts checks that both render the same.
 */
export type K8sObject = {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  [key: string]: any;
};

const CLUSTER_SCOPED = new Set([
  'Namespace',
  'ClusterRole',
  'ClusterRoleBinding',
  'CustomResourceDefinition',
]);

function readYamlDocs(file: string): any[] {
  return parseAllDocuments(readFileSync(file, 'utf8'))
    .map(d => d.toJSON())
    .filter(Boolean);
}

function unescapePointer(segment: string) {
  return segment.replace(/~1/g, '/').replace(/~0/g, '~');
}

function applyJson6902(target: any, ops: any[]) {
  for (const op of ops) {
    const parts = String(op.path).split('/').slice(1).map(unescapePointer);
    const last = parts.pop()!;
    let node = target;
    for (const p of parts) {
      if (node[p] === undefined) {
        if (op.op === 'add') node[p] = {};
        else throw new Error(`patch path ${op.path} not found`);
      }
      node = node[p];
    }
    let key: string | number = last;
    if (Array.isArray(node)) key = last === '-' ? node.length : Number(last);
    if (op.op === 'remove') {
      if (Array.isArray(node)) node.splice(key as number, 1);
      else delete node[key as string];
    } else if (op.op === 'replace') {
      if (node[key] === undefined)
        throw new Error(`patch path ${op.path} not found for replace`);
      node[key] = op.value;
    } else if (op.op === 'add') {
      if (Array.isArray(node)) node.splice(key as number, 0, op.value);
      else node[key] = op.value;
    } else {
      throw new Error(`unsupported patch op ${op.op}`);
    }
  }
}

/** Go's encoding/json output for the value (sorted keys, HTML characters escaped), which the hash covers. */
function goJson(value: unknown): string {
  const sorted = (v: any): any =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(
          Object.keys(v)
            .sort()
            .map(k => [k, sorted(v[k])]),
        )
      : v;
  return JSON.stringify(sorted(value)).replace(
    /[<>&\u2028\u2029]/g,
    c => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

/**
 * kustomize's name suffix for a generated ConfigMap (api/hasher: sha256 of the JSON of kind, name and
 * data; 10 characters, some letters swapped). The name is empty: kustomize looks it up as one field
 * called "metadata/name", finds none and hashes "" (observed with kubectl 1.32's kustomize 5.5).
 */
export function configMapHash(data: Record<string, string>) {
  const hex = createHash('sha256')
    .update(goJson({ kind: 'ConfigMap', name: '', data }))
    .digest('hex');
  const replace: Record<string, string> = {
    '0': 'g',
    '1': 'h',
    '3': 'k',
    a: 'm',
    e: 't',
  };
  return [...hex.slice(0, 10)].map(c => replace[c] ?? c).join('');
}

/** Renames references to ConfigMaps in Pod templates (volumes, env, envFrom), as kustomize does. */
function renameConfigMapReferences(
  objects: K8sObject[],
  renamed: Map<string, string>,
) {
  const rename = (ref: { name?: string } | undefined) => {
    if (ref?.name && renamed.has(ref.name)) ref.name = renamed.get(ref.name);
  };
  for (const o of objects) {
    const pod = o.spec?.template?.spec;
    if (!pod) continue;
    for (const volume of pod.volumes ?? []) {
      rename(volume.configMap);
      for (const source of volume.projected?.sources ?? [])
        rename(source.configMap);
    }
    for (const c of [
      ...(pod.containers ?? []),
      ...(pod.initContainers ?? []),
    ]) {
      for (const e of c.env ?? []) rename(e.valueFrom?.configMapKeyRef);
      for (const e of c.envFrom ?? []) rename(e.configMapRef);
    }
  }
}

export function renderKustomization(dir: string): K8sObject[] {
  const kustomization = readYamlDocs(join(dir, 'kustomization.yaml'))[0];
  let objects: K8sObject[] = [];
  for (const resource of kustomization.resources ?? []) {
    const path = resolve(dir, resource);
    if (statSync(path).isDirectory())
      objects.push(...renderKustomization(path));
    else objects.push(...readYamlDocs(path));
  }
  const hash = !(
    kustomization.generatorOptions?.disableNameSuffixHash ?? false
  );
  const renamed = new Map<string, string>();
  for (const generator of kustomization.configMapGenerator ?? []) {
    const data: Record<string, string> = {};
    for (const file of generator.files ?? [])
      data[basename(file)] = readFileSync(resolve(dir, file), 'utf8');
    for (const literal of generator.literals ?? []) {
      const index = literal.indexOf('=');
      data[literal.slice(0, index)] = literal.slice(index + 1);
    }
    const name =
      hash && !(generator.options?.disableNameSuffixHash ?? false)
        ? `${generator.name}-${configMapHash(data)}`
        : generator.name;
    renamed.set(generator.name, name);
    objects.push({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name },
      data,
    });
  }
  renameConfigMapReferences(objects, renamed);
  for (const { pairs } of kustomization.labels ?? []) {
    for (const o of objects)
      o.metadata.labels = { ...o.metadata.labels, ...pairs };
  }
  for (const patch of kustomization.patches ?? []) {
    const matches = objects.filter(
      o =>
        o.kind === patch.target.kind &&
        (!patch.target.name || o.metadata.name === patch.target.name),
    );
    if (matches.length === 0)
      throw new Error(
        `patch target ${JSON.stringify(patch.target)} matches nothing`,
      );
    const ops = patch.patch
      ? parseAllDocuments(patch.patch)[0].toJSON()
      : readYamlDocs(resolve(dir, patch.path))[0];
    for (const o of matches) applyJson6902(o, ops);
  }
  for (const image of kustomization.images ?? []) {
    for (const o of objects) {
      const pod = o.spec?.template?.spec;
      for (const c of [
        ...(pod?.containers ?? []),
        ...(pod?.initContainers ?? []),
      ]) {
        const [name] = String(c.image).split(':');
        if (name === image.name)
          c.image = `${image.newName ?? name}:${image.newTag}`;
      }
    }
  }
  if (kustomization.namespace) {
    objects = objects.map(o =>
      CLUSTER_SCOPED.has(o.kind)
        ? o
        : {
            ...o,
            metadata: { ...o.metadata, namespace: kustomization.namespace },
          },
    );
  }
  return objects;
}

export const repoRoot = () => {
  let dir = __dirname;
  while (!existsSync(join(dir, 'k8s'))) dir = dirname(dir);
  return dir;
};
