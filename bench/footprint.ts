// Footprint: extension bundle and VSIX bytes, activate() time and whether AWS SDK code was loaded
// during activation, and the time to the first instance list from a fresh process.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runJsonChild } from './childJson';
import { ENGINE_BUNDLE, EXTENSION_BUNDLE, REPO_ROOT } from './engineModule';
import { SandboxProcess } from './sandboxProcess';
import { median, progress, round } from './stats';

/** Fresh processes per probe; the median is reported. */
const ACTIVATE_SAMPLES = 7;
const FIRST_LIST_SAMPLES = 5;

/** Text that only AWS SDK code carries, minified or not. */
const SDK_MARKERS = [/aws-sdk-js/, /x-amz-user-agent/i, /AmazonSSM\./, /@aws-sdk\//, /@smithy\//];

export interface FootprintResult {
  bundleBytes: number;
  vsixBytes: number | null;
  vsixFile: string | null;
  packageError?: string;
  activateMs: number;
  activateLoadMs: number;
  activateCallMs: number;
  activateSamplesMs: number[];
  sdkLoadedDuringActivate: boolean;
  sdkModulesDuringActivate: string[];
  sdkCodeInExtensionBundle: string[];
  sdkModulesShortlyAfterActivate: number;
  stubbedVscodeApi: string[];
  firstInstanceListMs: number;
  firstInstanceListSamplesMs: number[];
}

interface ActivateReport {
  loadMs: number;
  activateCallMs: number;
  activateMs: number;
  sdkModulesDuringActivate: string[];
  sdkModulesAfterSettle: number;
  stubbedVscodeApi: string[];
}

function newestVsix(since: number): string | null {
  const candidates = readdirSync(REPO_ROOT)
    .filter((f) => f.endsWith('.vsix'))
    .map((f) => ({ f, mtime: statSync(join(REPO_ROOT, f)).mtimeMs }))
    .filter((c) => c.mtime >= since)
    .sort((a, b) => b.mtime - a.mtime);
  return candidates[0]?.f ?? null;
}

/** `npm run package` builds the production bundles and the VSIX; its output goes to our stderr. */
export function packageExtension(): { vsixFile: string | null; error?: string } {
  const scripts =
    (JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { scripts?: Record<string, string> })
      .scripts ?? {};
  if (!scripts.package) {
    const build = spawnSync('npm', ['run', 'build'], { cwd: REPO_ROOT, stdio: ['ignore', 2, 2] });
    return {
      vsixFile: null,
      error: `package.json has no "package" script (built with npm run build instead, exit ${build.status})`,
    };
  }
  const startedAt = Date.now() - 1000;
  const run = spawnSync('npm', ['run', 'package'], { cwd: REPO_ROOT, stdio: ['ignore', 2, 2] });
  if (run.status !== 0) return { vsixFile: null, error: `npm run package exited with ${run.status}` };
  const vsixFile = newestVsix(startedAt);
  return vsixFile ? { vsixFile } : { vsixFile: null, error: 'npm run package wrote no .vsix in the repository root' };
}

async function firstInstanceList(): Promise<number[]> {
  const sandbox = await SandboxProcess.start({});
  try {
    const samples: number[] = [];
    for (let i = 0; i < FIRST_LIST_SAMPLES; i++) {
      const report = await runJsonChild<{ firstListMs: number; instances: number }>(
        join(__dirname, 'firstListProbe.js'),
        [ENGINE_BUNDLE, JSON.stringify(sandbox.engineSettings)],
      );
      if (report.instances !== sandbox.info.instances.length)
        throw new Error(
          `first instance list returned ${report.instances} instances, the sandbox has ` +
            `${sandbox.info.instances.length}`,
        );
      samples.push(report.firstListMs);
    }
    return samples;
  } finally {
    await sandbox.stop();
  }
}

export async function measureFootprint(): Promise<FootprintResult> {
  const packaged = packageExtension();
  if (packaged.error) progress(`footprint: ${packaged.error}`);
  const bundleBytes = statSync(EXTENSION_BUNDLE).size;
  const bundleText = readFileSync(EXTENSION_BUNDLE, 'utf8');
  const sdkCodeInExtensionBundle = SDK_MARKERS.filter((m) => m.test(bundleText)).map(String);

  const scratch = mkdtempSync(join(tmpdir(), 'ec2-runner-bench-activate-'));
  const reports: ActivateReport[] = [];
  try {
    for (let i = 0; i < ACTIVATE_SAMPLES; i++) {
      reports.push(
        await runJsonChild<ActivateReport>(join(__dirname, 'activateProbe.js'), [EXTENSION_BUNDLE, scratch], 60_000),
      );
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  const sdkModulesDuringActivate = [...new Set(reports.flatMap((r) => r.sdkModulesDuringActivate))].map((p) =>
    p.replace(REPO_ROOT, '.'),
  );
  const firstListSamples = await firstInstanceList();
  const result: FootprintResult = {
    bundleBytes,
    vsixBytes: packaged.vsixFile ? statSync(join(REPO_ROOT, packaged.vsixFile)).size : null,
    vsixFile: packaged.vsixFile,
    packageError: packaged.error,
    activateMs: round(median(reports.map((r) => r.activateMs)), 2),
    activateLoadMs: round(median(reports.map((r) => r.loadMs)), 2),
    activateCallMs: round(median(reports.map((r) => r.activateCallMs)), 2),
    activateSamplesMs: reports.map((r) => round(r.activateMs, 2)),
    sdkLoadedDuringActivate: sdkModulesDuringActivate.length > 0 || sdkCodeInExtensionBundle.length > 0,
    sdkModulesDuringActivate,
    sdkCodeInExtensionBundle,
    sdkModulesShortlyAfterActivate: Math.max(...reports.map((r) => r.sdkModulesAfterSettle)),
    stubbedVscodeApi: reports[0]?.stubbedVscodeApi ?? [],
    firstInstanceListMs: round(median(firstListSamples), 0),
    firstInstanceListSamplesMs: firstListSamples.map((s) => round(s, 0)),
  };
  progress(
    `footprint: bundle ${bundleBytes} B, VSIX ${result.vsixBytes ?? 'n/a'} B, activate ` +
      `${result.activateMs} ms (SDK loaded: ${result.sdkLoadedDuringActivate}), first list ` +
      `${result.firstInstanceListMs} ms`,
  );
  return result;
}
