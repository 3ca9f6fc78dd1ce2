// The CLI's advice for the engine's errors: flags, commands and environment variables of `ec2-runner`
// (docs/errors.md lists it next to the extension's wording).
import { AGENT_CHECK, messageWithAdvice, type AdviceTable } from '../core';

const bucketFlag = 'pass --bucket / set EC2_RUNNER_BUCKET';

export const CLI_ADVICE: AdviceTable = {
  NoCredentials: ({ profile }) =>
    `run \`aws configure\`, \`aws sso login --profile ${profile ?? 'X'}\`, set AWS_PROFILE, or start the ` +
    `sandbox (\`ec2-runner sandbox\`).`,
  NoRegion: () => 'pass --region, set AWS_REGION, or add `region` to your profile in ~/.aws/config.',
  BucketPolicyDenied: () =>
    'pass --kms-key-id (or set EC2_RUNNER_KMS_KEY_ID) with the KMS key ARN the policy requires; your IAM ' +
    'identity needs kms:GenerateDataKey on it.',
  KmsKeyInvalid: () => "pass --kms-key-id (or set EC2_RUNNER_KMS_KEY_ID) with a key id or ARN in the bucket's region.",
  BucketInOtherRegion: ({ home }) =>
    home
      ? `use a bucket in ${home} (pass --bucket, or create the default one with \`ec2-runner bucket create\`).`
      : 'use a bucket in the region SSM uses (pass --bucket), or retry.',
  NoSuchBucket: ({ isDefault }) =>
    isDefault === true
      ? `create it with \`ec2-runner bucket create\` (public access blocked, encrypted, objects expire after 7 ` +
        `days), or ${bucketFlag}.`
      : `create it${isDefault === false ? '' : ' with `ec2-runner bucket create`'}, or ${bucketFlag} to an ` +
        `existing bucket.`,
  BucketNameTaken: () => 'pass --bucket with a name of your own.',
  InvalidInstanceId: () => 'Check `ec2-runner instances`.',
  NoMatchingInstances: () => 'check the tag and --region (see `ec2-runner instances`).',
  UnknownInstance: () => `check the id and --region, and ${AGENT_CHECK} (see \`ec2-runner instances\`).`,
  AwsCliUnsupported: () => 'run it with `ec2-runner run DIR --entry FILE`.',
  TargetNotConnected: () => 'Check `ec2-runner instances`.',
  UnknownCommand: ({ commandId }) => `check the ${commandId ? 'id' : 'command id'}, --profile and --region.`,
  EndpointUnreachable: ({ endpointUrl }) =>
    `check the network, --region and --endpoint-url${endpointUrl ? ' (is the sandbox running?)' : ''}.`,
  UnsupportedLanguage: () => 'for anything else pass --interpreter and a file.',
  UnsupportedFileType: () => 'Add one (e.g. #!/usr/bin/env python3), or give an interpreter (--interpreter).',
  InvalidPyproject: ({ fileFix }) => `${fileFix}, or run without installing dependencies (--no-deps).`,
  giveTarget: () => 'pass --instance ID (see `ec2-runner instances`) or --tag KEY=VALUE.',
  useTags: () => 'use --tag targets for fleets.',
  listInstances: () => 'see `ec2-runner instances`.',
  giveTag: () => 'pass --tag KEY=VALUE or --instance ID.',
  tagFormat: () => 'pass --tag KEY=VALUE.',
};

/** What the CLI prints for an error (after `ec2-runner: `). */
export function cliMessage(error: unknown): string {
  return messageWithAdvice(error, CLI_ADVICE);
}
