import { App, aws_ec2 as ec2, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { LabSchedulerStack } from './LabSchedulerStack';
import { apiPort, networkFromSettings } from './executorNetwork';

jest.setTimeout(120_000);

const root = resolve(__dirname, '../..');

function synth(
  props: Partial<ConstructorParameters<typeof LabSchedulerStack>[2]> = {},
  app = new App(),
) {
  const stack = new LabSchedulerStack(app, 'Test', {
    apiUrl: 'https://portal.internal.example.com/api/lab-scheduler',
    codePath: join(root, 'dist/lambda.zip'),
    ...props,
  });
  return Template.fromStack(stack);
}

const existingVpc = {
  vpcId: 'vpc-0a1b2c3d4e5f60718',
  vpcCidrBlock: '10.20.0.0/16',
  availabilityZones: ['eu-central-1a', 'eu-central-1b'],
  privateSubnetIds: ['subnet-0aaa1111bbbb2222c', 'subnet-0ddd3333eeee4444f'],
};

const egressOf = (t: Template) => {
  const [group] = Object.values(
    t.findResources('AWS::EC2::SecurityGroup'),
  ) as any[];
  return group.Properties.SecurityGroupEgress;
};

describe('the executor in a VPC (cdk synth, offline)', () => {
  beforeAll(() => {
    if (!existsSync(join(root, 'dist/lambda.zip')))
      execFileSync(process.execPath, [join(root, 'scripts/build.mjs')], {
        cwd: root,
        stdio: 'pipe',
      });
  });

  it('stays out of any VPC unless asked', () => {
    const t = synth();
    t.resourceCountIs('AWS::EC2::SecurityGroup', 0);
    const [fn] = Object.values(
      t.findResources('AWS::Lambda::Function'),
    ) as any[];
    expect(fn.Properties.VpcConfig).toBeUndefined();
  });

  it("joins an existing VPC's private subnets by attributes, with egress only to the API and AWS APIs", () => {
    const t = synth({ network: { existingVpc } });
    t.resourceCountIs('AWS::EC2::VPC', 0);
    t.hasResourceProperties('AWS::Lambda::Function', {
      VpcConfig: {
        SubnetIds: existingVpc.privateSubnetIds,
        SecurityGroupIds: [
          {
            'Fn::GetAtt': [
              Match.stringLikeRegexp('^ExecutorSecurityGroup'),
              'GroupId',
            ],
          },
        ],
      },
    });
    expect(egressOf(t)).toEqual([
      expect.objectContaining({
        CidrIp: '10.20.0.0/16',
        FromPort: 443,
        ToPort: 443,
        IpProtocol: 'tcp',
      }),
      expect.objectContaining({
        CidrIp: '0.0.0.0/0',
        FromPort: 443,
        ToPort: 443,
      }),
    ]);
    // Nothing may connect to the function.
    const [group] = Object.values(
      t.findResources('AWS::EC2::SecurityGroup'),
    ) as any[];
    expect(group.Properties.SecurityGroupIngress).toBeUndefined();
    t.hasOutput('ExecutorSecurityGroupId', {});
    // ENI management for the function (VPC access) comes with the role.
    t.hasResourceProperties('AWS::IAM::Role', {
      ManagedPolicyArns: Match.arrayWith([
        {
          'Fn::Join': [
            '',
            Match.arrayWith([
              ':iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole',
            ]),
          ],
        },
      ]),
    });
  });

  it("limits API egress to the load balancer's security group and the API URL's port", () => {
    const t = synth({
      apiUrl: 'http://lab-api.internal:8080/api/lab-scheduler',
      network: { existingVpc, apiSecurityGroupId: 'sg-0123456789abcdef0' },
    });
    expect(egressOf(t)).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          DestinationSecurityGroupId: 'sg-0123456789abcdef0',
          FromPort: 8080,
          ToPort: 8080,
        }),
      ]),
    );
    expect(
      egressOf(t).some((e: any) => e.CidrIp === existingVpc.vpcCidrBlock),
    ).toBe(false);
    // The controller-managed group is not edited from here.
    t.resourceCountIs('AWS::EC2::SecurityGroupIngress', 0);
  });

  it('creates a VPC of its own on request (private subnets behind NAT, S3 gateway endpoint)', () => {
    const t = synth({ network: { newVpc: { cidr: '10.64.0.0/16' } } });
    t.hasResourceProperties('AWS::EC2::VPC', { CidrBlock: '10.64.0.0/16' });
    t.resourceCountIs('AWS::EC2::NatGateway', 1);
    t.hasResourceProperties('AWS::EC2::VPCEndpoint', {
      VpcEndpointType: 'Gateway',
    });
    const [fn] = Object.values(
      t.findResources('AWS::Lambda::Function'),
    ) as any[];
    const subnets: any[] = fn.Properties.VpcConfig.SubnetIds;
    expect(subnets).toHaveLength(2);
    for (const subnet of subnets)
      expect(subnet.Ref).toMatch(/^ExecutorVpcexecutorSubnet/);
  });

  it('takes a VPC construct and subnet selection from the app', () => {
    const app = new App();
    const network = new Stack(app, 'Network');
    const vpc = new ec2.Vpc(network, 'Shared', {
      maxAzs: 2,
      subnetConfiguration: [
        { name: 'public', subnetType: ec2.SubnetType.PUBLIC },
        { name: 'isolated', subnetType: ec2.SubnetType.PRIVATE_ISOLATED },
      ],
    });
    const t = synth(
      {
        network: {
          vpc,
          subnets: { subnetType: ec2.SubnetType.PRIVATE_ISOLATED },
        },
      },
      app,
    );
    const [fn] = Object.values(
      t.findResources('AWS::Lambda::Function'),
    ) as any[];
    expect(JSON.stringify(fn.Properties.VpcConfig.SubnetIds)).toMatch(
      /isolatedSubnet/,
    );
  });

  it('refuses subnet and zone lists that do not pair up', () => {
    expect(() =>
      synth({
        network: {
          existingVpc: { ...existingVpc, privateSubnetIds: ['subnet-1'] },
        },
      }),
    ).toThrow(/one private subnet per availability zone/);
  });
});

describe('apiPort', () => {
  it.each([
    ['https://portal.example.com/api/lab-scheduler', 443],
    ['http://portal.internal/api/lab-scheduler', 80],
    ['https://portal.example.com:8443/api', 8443],
  ])('%s → %i', (url, port) => expect(apiPort(url)).toBe(port));
});

describe('networkFromSettings (synth context / environment)', () => {
  const from = (settings: Record<string, string>) =>
    networkFromSettings(key => settings[key]);

  it('reads an existing VPC from comma-separated lists', () => {
    expect(
      from({
        vpcId: 'vpc-1',
        vpcCidr: '10.20.0.0/16',
        vpcAvailabilityZones: 'eu-central-1a, eu-central-1b',
        vpcPrivateSubnetIds: 'subnet-a,subnet-b',
        apiSecurityGroupId: 'sg-1',
      }),
    ).toEqual({
      existingVpc: {
        vpcId: 'vpc-1',
        vpcCidrBlock: '10.20.0.0/16',
        availabilityZones: ['eu-central-1a', 'eu-central-1b'],
        privateSubnetIds: ['subnet-a', 'subnet-b'],
      },
      apiSecurityGroupId: 'sg-1',
    });
    expect(from({ newVpcCidr: '10.64.0.0/16' })).toEqual({
      newVpc: { cidr: '10.64.0.0/16' },
      apiSecurityGroupId: undefined,
    });
    expect(from({})).toBeUndefined();
  });

  it('names what is missing or contradictory', () => {
    expect(() => from({ vpcId: 'vpc-1', vpcCidr: '10.0.0.0/16' })).toThrow(
      'vpcId is set; also set vpcAvailabilityZones, vpcPrivateSubnetIds',
    );
    expect(() => from({ vpcId: 'vpc-1', newVpcCidr: '10.1.0.0/16' })).toThrow(
      /not both/,
    );
    expect(() => from({ apiSecurityGroupId: 'sg-1' })).toThrow(/needs vpcId/);
  });
});
