import {
  aws_cloudfront as cloudfront,
  aws_cloudfront_origins as origins,
  aws_s3 as s3,
  aws_s3_deployment as s3deploy,
  CfnOutput,
  RemovalPolicy,
  Stack,
  StackProps,
} from 'aws-cdk-lib';
import { Construct } from 'constructs';

/** Optional static hosting of the portal's frontend bundle: S3 behind CloudFront, API on the backend. */
export interface FrontendHostingStackProps extends StackProps {
  /** Domain of the backend's load balancer (the EKS ingress), e.g. internal-alb.example.com. */
  backendDomain: string;
  /** Folder of the built app (packages/app/dist), uploaded on deploy; omit to upload separately. */
  appDistPath?: string;
}

/**
 * The viewer-request function of the default (bucket) behaviour: app routes (`/catalog/…`,
 * `/lab-scheduler/…`) get index.html, files get themselves. Files are what lies under /static/ and the
 * public files at the root (favicon.ico, manifest.json …); a dot deeper down is part of a route (entity
 * names may contain dots). `/api` and `/.backstage` are left alone: their own behaviours serve them, and
 * an error from the API must reach the browser as that error, not as the app's HTML.
 * CloudFront Functions run plain JavaScript (cloudfront-js-2.0), so this is the deployed source as is.
 */
export const SPA_ROUTING_FUNCTION_CODE = `function handler(event) {
  var request = event.request;
  var uri = request.uri;
  if (/^\\/(api|\\.backstage)(\\/|$)/.test(uri)) return request;
  if (/^\\/static\\//.test(uri)) return request;
  if (/^\\/[^\\/]+\\.[A-Za-z0-9]+$/.test(uri)) return request;
  request.uri = '/index.html';
  return request;
}
`;

/**
 * CloudFront serves the built app from a private S3 bucket (origin access control) and forwards
 * `/api/*` and `/.backstage/*` to the backend uncached with the viewer's Authorization header.
 *
 * How config reaches a static bundle: the backend normally injects frontend config into index.html at
 * request time; a bundle on S3 is built with its config instead —
 * `backstage-cli package build --config ../../app-config.production.yaml` (APP_BASE_URL and
 * BACKEND_BASE_URL set to the CloudFront domain) embeds the frontend-visible keys at build time.
 */
export class FrontendHostingStack extends Stack {
  readonly bucket: s3.Bucket;
  readonly distribution: cloudfront.Distribution;

  constructor(scope: Construct, id: string, props: FrontendHostingStackProps) {
    super(scope, id, props);
    this.bucket = new s3.Bucket(this, 'AppBundle', {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    const backend = new origins.HttpOrigin(props.backendDomain, {
      protocolPolicy: cloudfront.OriginProtocolPolicy.HTTPS_ONLY,
    });
    const toBackend: cloudfront.BehaviorOptions = {
      origin: backend,
      viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
      allowedMethods: cloudfront.AllowedMethods.ALLOW_ALL,
      cachePolicy: cloudfront.CachePolicy.CACHING_DISABLED,
      originRequestPolicy:
        cloudfront.OriginRequestPolicy.ALL_VIEWER_EXCEPT_HOST_HEADER,
    };
    // Not distribution-wide error responses: those would also turn the API's 403/404 into 200 + HTML.
    const spaRouting = new cloudfront.Function(this, 'SpaRouting', {
      comment: 'App routes get index.html; files and the API pass through',
      runtime: cloudfront.FunctionRuntime.JS_2_0,
      code: cloudfront.FunctionCode.fromInline(SPA_ROUTING_FUNCTION_CODE),
    });
    this.distribution = new cloudfront.Distribution(this, 'Portal', {
      comment: 'Lab portal (Backstage) frontend',
      defaultRootObject: 'index.html',
      minimumProtocolVersion: cloudfront.SecurityPolicyProtocol.TLS_V1_2_2021,
      defaultBehavior: {
        origin: origins.S3BucketOrigin.withOriginAccessControl(this.bucket),
        viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
        cachePolicy: cloudfront.CachePolicy.CACHING_OPTIMIZED,
        responseHeadersPolicy:
          cloudfront.ResponseHeadersPolicy.SECURITY_HEADERS,
        functionAssociations: [
          {
            function: spaRouting,
            eventType: cloudfront.FunctionEventType.VIEWER_REQUEST,
          },
        ],
      },
      additionalBehaviors: {
        '/api/*': toBackend,
        '/.backstage/*': toBackend,
      },
    });
    if (props.appDistPath) {
      new s3deploy.BucketDeployment(this, 'DeployApp', {
        sources: [s3deploy.Source.asset(props.appDistPath)],
        destinationBucket: this.bucket,
        distribution: this.distribution,
        distributionPaths: ['/index.html'],
      });
    }
    new CfnOutput(this, 'PortalUrl', {
      value: `https://${this.distribution.distributionDomainName}`,
    });
    new CfnOutput(this, 'AppBucketName', { value: this.bucket.bucketName });
  }
}
