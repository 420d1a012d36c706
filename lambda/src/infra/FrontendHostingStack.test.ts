import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { FrontendHostingStack } from './FrontendHostingStack';

jest.setTimeout(120_000);

describe('FrontendHostingStack (cdk synth, offline)', () => {
  const t = Template.fromStack(
    new FrontendHostingStack(new App(), 'Frontend', {
      backendDomain: 'portal-backend.example.com',
    }),
  );

  it('serves the bundle from a private bucket through CloudFront with origin access control', () => {
    t.hasResourceProperties('AWS::S3::Bucket', {
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
    });
    t.resourceCountIs('AWS::CloudFront::OriginAccessControl', 1);
    t.hasResourceProperties('AWS::CloudFront::Distribution', {
      DistributionConfig: Match.objectLike({
        DefaultRootObject: 'index.html',
        CustomErrorResponses: Match.arrayWith([
          Match.objectLike({ ErrorCode: 404, ResponsePagePath: '/index.html' }),
        ]),
      }),
    });
  });

  it('forwards the API to the backend, uncached, with every method', () => {
    const [distribution] = Object.values(
      t.findResources('AWS::CloudFront::Distribution'),
    ) as any[];
    const behaviors = distribution.Properties.DistributionConfig.CacheBehaviors;
    expect(behaviors.map((b: any) => b.PathPattern).sort()).toEqual([
      '/.backstage/*',
      '/api/*',
    ]);
    for (const b of behaviors) {
      expect(b.AllowedMethods).toEqual(
        expect.arrayContaining(['POST', 'PATCH', 'DELETE']),
      );
      expect(b.CachePolicyId).toBe('4135ea2d-6df8-44a3-9df3-4b5a84be39ad'); // CachingDisabled
    }
    const origins = distribution.Properties.DistributionConfig.Origins;
    expect(origins.map((o: any) => o.DomainName)).toContain(
      'portal-backend.example.com',
    );
  });
});
