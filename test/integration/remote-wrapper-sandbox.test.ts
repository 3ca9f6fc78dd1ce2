// The wrapper suite against the sandbox's S3: real presigned GETs and the engine's real presigned POST
// policy, verified by the sandbox as S3 would (signature, expiry, key prefix, size cap).
import { sandboxTransport } from '../support/remoteSandboxTransport';
import { withSandbox } from '../support/sandbox';
import { describeWrapperSuite } from '../support/remoteWrapperSuite';

// Started at file level so withSandbox's after() hook stops it once this whole file is done.
const fixture = withSandbox({ instances: 1 });

describeWrapperSuite('remote wrapper (python path, sandbox S3 with presigned GET and POST)', {
  start: async () => {
    const { transport, s3 } = sandboxTransport(await fixture);
    return { transport, stop: async () => s3.destroy() };
  },
  randomArgumentRuns: 3,
});
