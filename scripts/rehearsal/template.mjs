// The measurement stack's numbers, read from the synthesized CloudFormation template (never copied by hand).
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

function single(resources, type, predicate = () => true) {
  const found = Object.values(resources).filter(
    r => r.Type === type && predicate(r),
  );
  if (found.length !== 1)
    throw new Error(
      `expected one ${type} in the template, found ${found.length}`,
    );
  return found[0].Properties;
}

/** Synthesizes lambda/src/infra (the `synth` script of the lambda workspace) and extracts what the rehearsal needs. */
export function synthesizeStack(root) {
  execFileSync('npm', ['run', 'synth', '--workspace', 'lambda'], {
    cwd: root,
    stdio: 'pipe',
  });
  const template = JSON.parse(
    readFileSync(
      join(root, 'lambda/cdk.out/LabScheduler.template.json'),
      'utf8',
    ),
  );
  const resources = template.Resources;
  const queue = single(
    resources,
    'AWS::SQS::Queue',
    r => r.Properties.RedrivePolicy,
  );
  const dlq = single(
    resources,
    'AWS::SQS::Queue',
    r => !r.Properties.RedrivePolicy,
  );
  const mapping = single(resources, 'AWS::Lambda::EventSourceMapping');
  const fn = single(resources, 'AWS::Lambda::Function', r =>
    String(r.Properties.Handler).startsWith('handler.'),
  );
  return {
    queue: {
      visibilityTimeoutSeconds: queue.VisibilityTimeout,
      messageRetentionSeconds: queue.MessageRetentionPeriod,
      maxReceiveCount: queue.RedrivePolicy.maxReceiveCount,
      fifo: Boolean(queue.FifoQueue),
    },
    deadLetterQueue: { messageRetentionSeconds: dlq.MessageRetentionPeriod },
    eventSource: {
      batchSize: mapping.BatchSize,
      maximumBatchingWindowSeconds: mapping.MaximumBatchingWindowInSeconds ?? 0,
      maximumConcurrency: mapping.ScalingConfig?.MaximumConcurrency,
      reportBatchItemFailures: (mapping.FunctionResponseTypes ?? []).includes(
        'ReportBatchItemFailures',
      ),
    },
    function: {
      timeoutSeconds: fn.Timeout,
      handler: fn.Handler,
      // Plain values only: references (secret ARN, bucket, queue URL) are replaced by the rehearsal's own.
      environment: Object.fromEntries(
        Object.entries(fn.Environment?.Variables ?? {}).filter(
          ([, v]) => typeof v === 'string',
        ),
      ),
    },
  };
}
