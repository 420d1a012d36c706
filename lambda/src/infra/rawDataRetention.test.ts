import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LabSchedulerStack } from './LabSchedulerStack';

/** The code asset only has to exist for synth; the stack's own test builds the real bundle. */
const codePath = mkdtempSync(join(tmpdir(), 'lambda-code-'));
writeFileSync(join(codePath, 'handler.js'), '');

function rawDataBucketRules(rawDataRetentionDays?: number): any[] {
  const stack = new LabSchedulerStack(new App(), 'Test', {
    apiUrl: 'https://portal.example.com/api/lab-scheduler',
    codePath,
    rawDataRetentionDays,
  });
  const buckets = Template.fromStack(stack).findResources('AWS::S3::Bucket');
  const [bucket] = Object.values(buckets) as any[];
  return bucket.Properties.LifecycleConfiguration.Rules;
}

describe('raw data retention in the bucket', () => {
  it('expires raw data after rawDataRetentionDays, and replaced versions a day later', () => {
    expect(rawDataBucketRules(90)).toEqual(
      expect.arrayContaining([
        {
          Id: 'RawDataRetention',
          Prefix: 'raw/',
          Status: 'Enabled',
          ExpirationInDays: 90,
          NoncurrentVersionExpiration: { NoncurrentDays: 1 },
        },
      ]),
    );
  });

  it('keeps raw data for ever by default', () => {
    const rules = rawDataBucketRules();
    expect(rules.some(r => r.ExpirationInDays !== undefined)).toBe(false);
    expect(rules.length).toBeGreaterThan(0);
  });
});
