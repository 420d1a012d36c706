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
      }),
    });
  });

  it('falls back to index.html only on the bucket behaviour, never distribution-wide', () => {
    const [distribution] = Object.values(
      t.findResources('AWS::CloudFront::Distribution'),
    ) as any[];
    const config = distribution.Properties.DistributionConfig;
    // Error responses apply to every behaviour, the API's included.
    expect(config.CustomErrorResponses).toBeUndefined();
    const [fn] = Object.entries(t.findResources('AWS::CloudFront::Function'));
    expect(fn[1].Properties.FunctionConfig.Runtime).toBe('cloudfront-js-2.0');
    expect(config.DefaultCacheBehavior.FunctionAssociations).toEqual([
      {
        EventType: 'viewer-request',
        FunctionARN: { 'Fn::GetAtt': [fn[0], 'FunctionARN'] },
      },
    ]);
    for (const b of config.CacheBehaviors)
      expect(b.FunctionAssociations).toBeUndefined();
  });

  describe('the SPA routing function, as deployed', () => {
    // The code from the synthesised template, run the way CloudFront calls it.
    const [fn] = Object.values(
      t.findResources('AWS::CloudFront::Function'),
    ) as any[];
    // eslint-disable-next-line no-new-func
    const handler = new Function(
      `${fn.Properties.FunctionCode}; return handler;`,
    )() as (event: any) => any;
    const viewerRequest = (uri: string) =>
      handler({
        version: '1.0',
        context: { eventType: 'viewer-request' },
        viewer: { ip: '192.0.2.1' },
        request: {
          method: 'GET',
          uri,
          querystring: { tab: { value: 'runs' } },
          headers: { host: { value: 'd111111abcdef8.cloudfront.net' } },
          cookies: {},
        },
      });

    it.each([
      '/',
      '/lab-scheduler',
      '/lab-scheduler/tasks/7d3c/runs',
      '/catalog/default/resource/spectrometer.lab-2',
      '/settings/',
    ])('serves the app for the route %s', uri => {
      const request = viewerRequest(uri);
      expect(request.uri).toBe('/index.html');
      expect(request.querystring).toEqual({ tab: { value: 'runs' } });
    });

    it.each([
      '/static/main.3f2a9c.js',
      '/static/media/logo.5d5d9eef.svg',
      '/favicon.ico',
      '/manifest.json',
      '/robots.txt',
      '/index.html',
      '/api/lab-scheduler/tasks/unknown',
      '/api',
      '/.backstage/health/v1/readiness',
    ])('leaves %s to its origin (a missing file stays an error)', uri => {
      expect(viewerRequest(uri).uri).toBe(uri);
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
