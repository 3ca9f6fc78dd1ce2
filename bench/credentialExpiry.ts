// Credentials shorter than the run: a run 3x longer than the lifetime of its sts:AssumeRole session
// credentials (sandbox `sessionLifetimeS`), through an AWS config profile with role_arn +
// source_profile, as a user with SSO or a role would run it. Measures the output bytes that did not
// reach the client (goal 0): the client renews the upload policy before each expiry (renewal.ts).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadEngine, withTimeout } from './engineModule';
import { SandboxProcess } from './sandboxProcess';
import { progress } from './stats';

export interface CredentialExpiryPlan {
  sessionSeconds: number;
  /** The run lasts this many credential lifetimes. */
  lifetimes: number;
  lineIntervalSeconds: number;
}

export interface CredentialExpiryResult {
  sessionSeconds: number;
  runSeconds: number;
  expectedBytes: number;
  /** Expected output bytes missing from what the client received live (and from the final result). */
  bytesLost: number;
  renewals: number;
}

const PROFILE = 'bench-role';

function expectedOutput(lines: number): string {
  let text = '';
  for (let i = 0; i < lines; i++) text += `line ${String(i).padStart(5, '0')}\n`;
  return text;
}

function commonPrefixBytes(a: Buffer, b: Buffer): number {
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  return i;
}

export async function measureCredentialExpiry(plan: CredentialExpiryPlan): Promise<CredentialExpiryResult> {
  const runSeconds = plan.sessionSeconds * plan.lifetimes;
  const lines = Math.round(runSeconds / plan.lineIntervalSeconds);
  const sandbox = await SandboxProcess.start({ instances: 1, sessionLifetimeS: plan.sessionSeconds });
  const dir = mkdtempSync(join(tmpdir(), 'ec2-runner-bench-role-'));
  const saved = {
    config: process.env.AWS_CONFIG_FILE,
    credentials: process.env.AWS_SHARED_CREDENTIALS_FILE,
    endpoint: process.env.AWS_ENDPOINT_URL,
  };
  const { info } = sandbox;
  const configFile = join(dir, 'config');
  writeFileSync(
    configFile,
    `[profile keys]\naws_access_key_id = ${info.accessKeyId}\naws_secret_access_key = ` +
      `${info.secretAccessKey}\n[profile ${PROFILE}]\nrole_arn = ${info.roleArn}\nsource_profile = keys\nregion ` +
      `= ${info.region}\n`,
    { mode: 0o600 },
  );
  // The SDK's own chain assumes the role (its STS client finds the endpoint through AWS_ENDPOINT_URL).
  Object.assign(process.env, {
    AWS_CONFIG_FILE: configFile,
    AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
    AWS_ENDPOINT_URL: info.endpoint,
  });
  const engine = loadEngine().createEngine({
    endpointUrl: info.endpoint,
    region: info.region,
    profile: PROFILE,
    bucket: info.bucket,
  });
  try {
    const command =
      `i=0; while [ $i -lt ${lines} ]; do printf 'line %05d\\n' $i; i=$((i+1)); sleep ` +
      `${plan.lineIntervalSeconds}; done`;
    const handle = await engine.start({
      source: { kind: 'command', command },
      target: { kind: 'instances', instanceIds: [sandbox.onlineInstanceIds[0]] },
    });
    const received: Buffer[] = [];
    const subscription = handle.onOutput(
      (chunk) => chunk.stream === 'stdout' && received.push(Buffer.from(chunk.data)),
    );
    const result = await withTimeout(handle.wait(), (runSeconds + 180) * 1000, 'credential expiry run');
    subscription.dispose();
    const expected = Buffer.from(expectedOutput(lines));
    const live = Buffer.concat(received);
    const final = Buffer.from(result.invocations[0].stdout);
    // Duplicates count as damage too: anything past the expected bytes is subtracted from the match.
    const matched = Math.min(
      commonPrefixBytes(live, expected) - Math.max(0, live.length - expected.length),
      commonPrefixBytes(final, expected),
    );
    const stats = await sandbox.stats();
    const renewals = Math.max(0, (stats.counts['ssm:SendCommand'] ?? 1) - 1);
    const bytesLost = expected.length - Math.max(0, matched);
    progress(
      `credential expiry: ${runSeconds} s run, ${plan.sessionSeconds} s credentials, ${renewals} renewals, ` +
        `${bytesLost} of ${expected.length} bytes lost`,
    );
    return { sessionSeconds: plan.sessionSeconds, runSeconds, expectedBytes: expected.length, bytesLost, renewals };
  } finally {
    engine.dispose();
    await sandbox.stop();
    for (const [name, value] of [
      ['AWS_CONFIG_FILE', saved.config],
      ['AWS_SHARED_CREDENTIALS_FILE', saved.credentials],
      ['AWS_ENDPOINT_URL', saved.endpoint],
    ] as const) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
    rmSync(dir, { recursive: true, force: true });
  }
}
