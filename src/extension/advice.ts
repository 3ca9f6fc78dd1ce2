// The extension's advice for the engine's errors: settings and commands of VS Code (the notification
// adds buttons for them, errorInfo.ts). docs/errors.md lists it next to the CLI's wording.
import { AGENT_CHECK, type AdviceTable } from '../core/frontEnd';

const PICK_PROFILE = 'Select Profile and Region…';
const INSTANCES_VIEW = 'Check the EC2 Runner Instances view.';

export const EXTENSION_ADVICE: AdviceTable = {
  NoCredentials: ({ profile }) =>
    `run \`aws configure\` or \`aws sso login${profile ? ` --profile ${profile}` : ''}\`, pick a profile ` +
    `(${PICK_PROFILE}), or use Try It Without AWS.`,
  NoRegion: () =>
    `pick one (${PICK_PROFILE}), set ec2Runner.region, or add \`region\` to your profile in ~/.aws/config.`,
  BucketPolicyDenied: () =>
    'set ec2Runner.kmsKeyId to the KMS key ARN the policy requires; your IAM identity needs kms:GenerateDataKey on it.',
  KmsKeyInvalid: () => "set ec2Runner.kmsKeyId to a key id or ARN in the bucket's region.",
  BucketInOtherRegion: ({ home }) =>
    home
      ? `use a bucket in ${home} (set ec2Runner.bucket, or clear it and use Create Staging Bucket for the default one).`
      : 'use a bucket in the region SSM uses (ec2Runner.bucket), or retry.',
  NoSuchBucket: ({ isDefault }) =>
    isDefault === true
      ? 'create it with Create Staging Bucket (public access blocked, encrypted, objects expire after 7 days), ' +
        'or set ec2Runner.bucket to an existing bucket.'
      : 'create it (Create Staging Bucket), or set ec2Runner.bucket to an existing bucket.',
  BucketNameTaken: () => 'set ec2Runner.bucket to a name of your own.',
  InvalidInstanceId: () => INSTANCES_VIEW,
  NoMatchingInstances: () => `check the tag and the region (${PICK_PROFILE}).`,
  UnknownInstance: () => `check the id and the region (${PICK_PROFILE}), and ${AGENT_CHECK}.`,
  AwsCliUnsupported: () => 'run it with Run File with Its Project Folder on EC2.',
  DebugpyNotFound: () =>
    'install it locally (pip install debugpy, or apt install python3-debugpy), install the Python Debugger ' +
    'extension, or name a folder with ec2Runner.debugpyPath.',
  TargetNotConnected: () => INSTANCES_VIEW,
  UnknownCommand: () => `check the command id, and the profile and region (${PICK_PROFILE}).`,
  EndpointUnreachable: ({ endpointUrl }) =>
    `check the network and the settings ec2Runner.region and ` +
    `ec2Runner.endpointUrl${endpointUrl ? ' (is the sandbox running?)' : ''}.`,
  UnsupportedLanguage: () => 'for anything else run a file with a #! line.',
  UnsupportedFileType: () => 'Add one (e.g. #!/usr/bin/env python3).',
  InvalidPyproject: ({ fileFix }) =>
    `${fileFix}, or run without installing dependencies (setting ec2Runner.installDependencies: false).`,
  giveTarget: () => 'pick an instance in the EC2 Runner Instances view.',
  listInstances: () => 'pick one in the EC2 Runner Instances view.',
};
