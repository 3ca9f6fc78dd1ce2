// Who we are and where: STS GetCallerIdentity plus the resolved region, fetched once per client set.
import { GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import type { CallerIdentity } from './api';
import type { AwsClients } from './clients';

export function cachedIdentity(clients: AwsClients): () => Promise<CallerIdentity> {
  let pending: Promise<CallerIdentity> | undefined;
  return () => {
    pending ??= (async () => {
      const [who, region] = await Promise.all([clients.sts.send(new GetCallerIdentityCommand({})), clients.region()]);
      return { account: who.Account ?? '', arn: who.Arn ?? '', region };
    })();
    // A failure (no credentials yet) must not be cached: the user may fix it and retry.
    pending.catch(() => (pending = undefined));
    return pending;
  };
}
