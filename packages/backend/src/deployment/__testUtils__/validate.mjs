// Validates Kubernetes objects against the official schemas (kubernetes-models), offline.
// Usage: node validate.mjs objects.json → prints a JSON list of { kind, name, error }.
import { readFileSync } from 'node:fs';

const objects = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const problems = [];
for (const o of objects) {
  const group = o.apiVersion.includes('/') ? o.apiVersion : `v1`;
  try {
    const module = await import(`kubernetes-models/${group}/${o.kind}`);
    const Model = module[o.kind] ?? module.default;
    new Model(o).validate();
  } catch (error) {
    problems.push({
      kind: o.kind,
      name: o.metadata?.name,
      error: String(error.message ?? error).slice(0, 2000),
    });
  }
}
process.stdout.write(JSON.stringify(problems));
