import {
  aws_cloudfront as cloudfront,
  aws_cloudfront_origins as origins,
  aws_s3 as s3,
  aws_s3_deployment as s3deploy,
  CfnOutput,
  Duration,
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
      },
      additionalBehaviors: {
        '/api/*': toBackend,
        '/.backstage/*': toBackend,
      },
      // The app routes in the browser: unknown paths get index.html.
      errorResponses: [
        {
          httpStatus: 403,
          responseHttpStatus: 200,
          responsePagePath: '/index.html',
          ttl: Duration.seconds(0),
        },
        {
          httpStatus: 404,
          responseHttpStatus: 200,
          responsePagePath: '/index.html',
          ttl: Duration.seconds(0),
        },
      ],
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
