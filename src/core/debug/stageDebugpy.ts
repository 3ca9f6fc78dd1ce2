// Stages the packed debugpy like any file (content-addressed: the same copy uploads once) and says
// how the instance fetches it: a presigned GET, or `aws s3 cp` with the instance role.
import type { TransferMode } from '../api';
import { DEFAULT_DELIVERY_TIMEOUT_SECONDS } from '../defaults';
import type { LaunchContext } from '../launch';
import { stageFile } from '../staging';
import { cappedLifetimeSeconds, downloadLifetimeSeconds, presignedDownloadUrl, signingCredentials } from '../transfer';
import type { BootstrapConfig } from './bootstrap';
import type { DebugpyBundle } from './debugpyBundle';

export const DEBUGPY_ARCHIVE_NAME = 'debugpy.tar.gz';

export async function stageDebugpy(
  context: LaunchContext,
  bundle: DebugpyBundle,
  transferMode: TransferMode | undefined,
  deliveryTimeoutSeconds = DEFAULT_DELIVERY_TIMEOUT_SECONDS,
): Promise<BootstrapConfig['debugpy']> {
  const staged = await stageFile(context.s3, {
    bucket: context.bucket,
    keyPrefix: context.keyPrefix,
    fileName: DEBUGPY_ARCHIVE_NAME,
    content: bundle.archive,
    encryption: context.encryption,
  });
  if (transferMode === 'instance-role') {
    return {
      sha256: staged.sha256,
      fetch: { kind: 'instance-role', s3Uri: `s3://${staged.bucket}/${staged.key}`, region: context.bucketRegion },
    };
  }
  const lifetime = cappedLifetimeSeconds(
    downloadLifetimeSeconds(deliveryTimeoutSeconds),
    await signingCredentials(context.s3),
  );
  return {
    sha256: staged.sha256,
    fetch: { kind: 'presigned', url: await presignedDownloadUrl(context.s3, staged.bucket, staged.key, lifetime) },
  };
}
