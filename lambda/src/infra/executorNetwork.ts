import {
  aws_ec2 as ec2,
  aws_lambda as lambda,
  CfnOutput,
  Token,
} from 'aws-cdk-lib';
import { Construct } from 'constructs';

/**
 * The measurement Lambda's place in a VPC, so that it reaches an internal API (an internal ALB in the
 * EKS cluster's VPC). One of:
 * - `existingVpc`: the cluster's VPC by its attributes. No `Vpc.fromLookup`: a lookup needs AWS
 *   credentials at synth time, and synth here stays offline.
 * - `vpc`: a VPC construct (another stack of the same app, or `ec2.Vpc.fromVpcAttributes`), with
 *   optional `subnets` (default: the private subnets with egress).
 * - `newVpc`: a VPC of its own (two AZs, private subnets behind one NAT gateway, an S3 gateway
 *   endpoint); the API's VPC must then be reachable through peering or a transit gateway.
 */
export type ExecutorNetworkProps = (
  | {
      existingVpc: {
        vpcId: string;
        /** Egress to the API is allowed to this range unless `apiSecurityGroupId` is set. */
        vpcCidrBlock: string;
        availabilityZones: string[];
        /** Private subnets (one per AZ, in the same order) with a route to AWS APIs (NAT or endpoints). */
        privateSubnetIds: string[];
      };
    }
  | { vpc: ec2.IVpc; subnets?: ec2.SubnetSelection }
  | { newVpc: { cidr?: string; maxAzs?: number } }
) & {
  /**
   * The security group of the API's load balancer. Egress to the API then goes to that group only
   * (else to the VPC's CIDR). The load balancer's group must admit the executor's group
   * (output `ExecutorSecurityGroupId`): this stack does not edit a group the AWS Load Balancer
   * Controller manages, since the controller reconciles its rules.
   */
  apiSecurityGroupId?: string;
};

/** The port the API URL names (443 for https without one). */
export function apiPort(apiUrl: string): number {
  if (Token.isUnresolved(apiUrl)) return 443;
  const url = new URL(apiUrl);
  if (url.port) return Number(url.port);
  return url.protocol === 'http:' ? 80 : 443;
}

function resolveVpc(scope: Construct, network: ExecutorNetworkProps) {
  if ('vpc' in network)
    return {
      vpc: network.vpc,
      subnets: network.subnets ?? {
        subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS,
      },
    };
  if ('existingVpc' in network) {
    const { vpcId, vpcCidrBlock, availabilityZones, privateSubnetIds } =
      network.existingVpc;
    if (privateSubnetIds.length !== availabilityZones.length)
      throw new Error(
        'existingVpc: give one private subnet per availability zone, in the same order',
      );
    const vpc = ec2.Vpc.fromVpcAttributes(scope, 'ApiVpc', {
      vpcId,
      vpcCidrBlock,
      availabilityZones,
      privateSubnetIds,
    });
    return { vpc, subnets: { subnets: vpc.privateSubnets } };
  }
  const vpc = new ec2.Vpc(scope, 'ExecutorVpc', {
    ipAddresses: ec2.IpAddresses.cidr(network.newVpc.cidr ?? '10.64.0.0/16'),
    maxAzs: network.newVpc.maxAzs ?? 2,
    natGateways: 1,
    subnetConfiguration: [
      { name: 'public', subnetType: ec2.SubnetType.PUBLIC, cidrMask: 24 },
      {
        name: 'executor',
        subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS,
        cidrMask: 22,
      },
    ],
    // Raw data to S3 without NAT charges.
    gatewayEndpoints: { S3: { service: ec2.GatewayVpcEndpointAwsService.S3 } },
  });
  return {
    vpc,
    subnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
  };
}

/**
 * The VPC, subnets and security group of the executor. The group allows no inbound traffic (the event
 * source mapping invokes the function, nothing connects to it) and two kinds of outbound: the API's
 * port to the API, and HTTPS to AWS APIs (Secrets Manager, S3, SQS; through NAT or interface
 * endpoints, whose addresses are not known here).
 */
export function executorNetwork(
  scope: Construct,
  network: ExecutorNetworkProps,
  apiUrl: string,
): Pick<lambda.FunctionProps, 'vpc' | 'vpcSubnets' | 'securityGroups'> {
  const { vpc, subnets } = resolveVpc(scope, network);
  const securityGroup = new ec2.SecurityGroup(scope, 'ExecutorSecurityGroup', {
    vpc,
    description: 'Lab Scheduler measurement Lambda',
    allowAllOutbound: false,
  });
  const port = ec2.Port.tcp(apiPort(apiUrl));
  if (network.apiSecurityGroupId)
    securityGroup.addEgressRule(
      ec2.Peer.securityGroupId(network.apiSecurityGroupId),
      port,
      'The Lab Scheduler API (its load balancer)',
    );
  else
    securityGroup.addEgressRule(
      ec2.Peer.ipv4(vpc.vpcCidrBlock),
      port,
      'The Lab Scheduler API (internal load balancer in the VPC)',
    );
  securityGroup.addEgressRule(
    ec2.Peer.anyIpv4(),
    ec2.Port.tcp(443),
    'AWS APIs: Secrets Manager, S3, SQS',
  );
  new CfnOutput(scope, 'ExecutorSecurityGroupId', {
    value: securityGroup.securityGroupId,
    description:
      "Admit this group on the API load balancer's security group (the API port)",
  });
  return {
    vpc,
    vpcSubnets: subnets,
    securityGroups: [securityGroup],
  };
}

const list = (value: string | undefined) =>
  (value ?? '')
    .split(',')
    .map(item => item.trim())
    .filter(Boolean);

/**
 * The network from the CDK app's context or environment (synth.ts): `vpcId`, `vpcCidr`,
 * `vpcAvailabilityZones` and `vpcPrivateSubnetIds` (comma-separated) for the API's VPC, or `newVpcCidr`
 * for a VPC of its own; `apiSecurityGroupId` in either case. Nothing set: no VPC.
 */
export function networkFromSettings(
  setting: (key: string) => string | undefined,
): ExecutorNetworkProps | undefined {
  const apiSecurityGroupId = setting('apiSecurityGroupId') || undefined;
  const vpcId = setting('vpcId');
  const newVpcCidr = setting('newVpcCidr');
  if (vpcId && newVpcCidr)
    throw new Error('Set either vpcId (existing VPC) or newVpcCidr, not both');
  if (newVpcCidr) return { newVpc: { cidr: newVpcCidr }, apiSecurityGroupId };
  if (!vpcId) {
    if (apiSecurityGroupId)
      throw new Error('apiSecurityGroupId needs vpcId or newVpcCidr');
    return undefined;
  }
  const vpcCidrBlock = setting('vpcCidr');
  const availabilityZones = list(setting('vpcAvailabilityZones'));
  const privateSubnetIds = list(setting('vpcPrivateSubnetIds'));
  const missing = [
    !vpcCidrBlock && 'vpcCidr',
    !availabilityZones.length && 'vpcAvailabilityZones',
    !privateSubnetIds.length && 'vpcPrivateSubnetIds',
  ].filter(Boolean);
  if (missing.length)
    throw new Error(`vpcId is set; also set ${missing.join(', ')}`);
  return {
    existingVpc: {
      vpcId,
      vpcCidrBlock: vpcCidrBlock!,
      availabilityZones,
      privateSubnetIds,
    },
    apiSecurityGroupId,
  };
}
