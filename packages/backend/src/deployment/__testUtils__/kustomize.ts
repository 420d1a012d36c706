import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { parseAllDocuments } from 'yaml';

/**
 * A small, offline kustomize renderer for the features the manifests in k8s/ use: resources (files and
 * bases), namespace, images, labels, configMapGenerator (files and literals) and JSON 6902 patches with
 * kind/name targets. No kustomize binary exists on these machines; `kubectl kustomize` renders the same.
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
  if (hash)
    throw new Error('name suffix hashes are not supported by this renderer');
  for (const generator of kustomization.configMapGenerator ?? []) {
    const data: Record<string, string> = {};
    for (const file of generator.files ?? [])
      data[basename(file)] = readFileSync(resolve(dir, file), 'utf8');
    for (const literal of generator.literals ?? []) {
      const index = literal.indexOf('=');
      data[literal.slice(0, index)] = literal.slice(index + 1);
    }
    objects.push({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: generator.name },
      data,
    });
  }
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
