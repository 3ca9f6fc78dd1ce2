// The real-VS Code stack for e2e runs: the sandbox (local SSM + S3) and code-server with the
// extension installed from its VSIX into a throwaway extensions dir, both on loopback, both in their
// own process groups. code-server gets the sandbox's variables in its environment, so the
// extension works with no settings, as a user's VS Code started with them would.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { toolPaths, isInstalled } from '../install.mjs';
import { removeOnExit, startGroup, stopGroup } from './processes.mjs';

const execFileAsync = promisify(execFile);

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const artifactsRoot = path.join(repoRoot, '.e2e-artifacts');

const SANDBOX_READY_MS = 30_000;
const CODE_SERVER_READY_MS = 60_000;

/** A fresh folder under .e2e-artifacts/ for one run's logs and screenshots. */
export function artifactsDir(label) {
  const dir = path.join(artifactsRoot, label);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  return dir;
}

export async function waitFor(description, check, timeoutMs, intervalMs = 200) {
  const deadline = Date.now() + timeoutMs;
  let lastError;
  for (;;) {
    try {
      const value = await check();
      if (value) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${description}${lastError ? `: ${lastError.message}` : ''}`,
      );
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

function tail(file, lines = 30) {
  try {
    return fs.readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

export async function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

export function requireTools() {
  const paths = toolPaths();
  if (!isInstalled(paths)) {
    throw new Error(`code-server and Node 24 are not installed in ${paths.root}. Run: node test/e2e/install.mjs`);
  }
  return paths;
}

/** The VSIX `npm run package` produced (newest *.vsix in the repo root), or $E2E_VSIX. */
export function findExtensionVsix() {
  if (process.env.E2E_VSIX) return path.resolve(process.env.E2E_VSIX);
  const vsixes = fs
    .readdirSync(repoRoot)
    .filter((name) => name.endsWith('.vsix'))
    .map((name) => path.join(repoRoot, name))
    .sort((a, b) => fs.statSync(b).mtimeMs - fs.statSync(a).mtimeMs);
  if (vsixes.length === 0) throw new Error(`no .vsix in ${repoRoot}; run npm run package`);
  return vsixes[0];
}

/** Starts `ec2-runner sandbox` and resolves with its info file once it is listening. */
export async function startSandbox({ dir, logFile }) {
  const infoFile = path.join(dir, 'sandbox-info.json');
  const dataDir = path.join(dir, 'sandbox-data');
  const cli = path.join(repoRoot, 'dist', 'cli.js');
  if (!fs.existsSync(cli)) throw new Error(`${cli} is missing; run npm run build`);
  const child = startGroup(
    'sandbox',
    process.execPath,
    [cli, 'sandbox', '--info-file', infoFile, '--data-dir', dataDir],
    {
      cwd: dir,
      logFile,
    },
  );
  let exited = false;
  child.once('exit', () => (exited = true));
  const info = await waitFor(
    'the sandbox info file',
    () => {
      if (exited) throw new Error(`sandbox exited early:\n${tail(logFile)}`);
      if (!fs.existsSync(infoFile)) return undefined;
      return JSON.parse(fs.readFileSync(infoFile, 'utf8'));
    },
    SANDBOX_READY_MS,
  ).catch(async (error) => {
    await stopGroup(child.pid);
    throw error;
  });
  return { pgid: child.pid, info, stop: () => stopGroup(child.pid) };
}

/**
 * The environment a user's VS Code would have after following the README's sandbox setup:
 * the sandbox's endpoint, keys, region and bucket, and empty AWS config files so nothing from
 * this machine's ~/.aws leaks in.
 */
export function sandboxEnvironment(info, dir) {
  const configFile = path.join(dir, 'aws-config');
  const credentialsFile = path.join(dir, 'aws-credentials');
  fs.writeFileSync(configFile, '');
  fs.writeFileSync(credentialsFile, '');
  const env = { ...process.env };
  for (const key of Object.keys(env)) if (key.startsWith('AWS_')) delete env[key];
  return {
    ...env,
    AWS_ENDPOINT_URL: info.endpoint,
    AWS_ACCESS_KEY_ID: info.accessKeyId,
    AWS_SECRET_ACCESS_KEY: info.secretAccessKey,
    AWS_REGION: info.region,
    EC2_RUNNER_BUCKET: info.bucket,
    AWS_CONFIG_FILE: configFile,
    AWS_SHARED_CREDENTIALS_FILE: credentialsFile,
  };
}

/** User settings that keep the workbench quiet and predictable for a test. */
const QUIET_SETTINGS = {
  'workbench.startupEditor': 'none',
  'workbench.secondarySideBar.defaultVisibility': 'hidden',
  'workbench.tips.enabled': false,
  'workbench.welcomePage.walkthroughs.openOnInstall': false,
  'security.workspace.trust.enabled': false,
  'extensions.autoCheckUpdates': false,
  'extensions.autoUpdate': false,
  'extensions.ignoreRecommendations': true,
  'telemetry.telemetryLevel': 'off',
  'update.mode': 'none',
  'chat.disableAIFeatures': true,
  'git.enabled': false,
  'files.autoSave': 'off',
  // code-server would offer to forward the sandbox's ports, with notifications over the workbench.
  'remote.autoForwardPorts': false,
};

/** code-server --install-extension for each VSIX, into a throwaway extensions dir. */
export async function installExtensions({ tools, extensionsDir, userDataDir, vsixes, logFile }) {
  const args = [tools.codeServerEntry, '--extensions-dir', extensionsDir, '--user-data-dir', userDataDir];
  for (const vsix of vsixes) args.push('--install-extension', vsix);
  const { stdout, stderr } = await execFileAsync(tools.node24, args, { timeout: 120_000 }).catch((error) => {
    throw new Error(`code-server --install-extension failed: ${error.message}`);
  });
  fs.appendFileSync(logFile, stdout + stderr);
  if (/failed|error/i.test(stdout + stderr) && !/successfully installed/i.test(stdout)) {
    throw new Error(`installing ${vsixes.join(', ')} failed:\n${stdout}${stderr}`);
  }
}

export async function startCodeServer({ tools, env, workspace, extensionsDir, userDataDir, logFile, port }) {
  port ??= await freePort();
  const child = startGroup(
    'code-server',
    tools.node24,
    [
      tools.codeServerEntry,
      '--auth',
      'none',
      '--bind-addr',
      `127.0.0.1:${port}`,
      '--disable-telemetry',
      '--disable-update-check',
      '--disable-workspace-trust',
      '--user-data-dir',
      userDataDir,
      '--extensions-dir',
      extensionsDir,
      workspace,
    ],
    { env: { ...env, PATH: `${tools.node24BinDir}${path.delimiter}${env.PATH}` }, logFile },
  );
  let exited = false;
  child.once('exit', () => (exited = true));
  const url = `http://127.0.0.1:${port}`;
  await waitFor(
    'code-server /healthz',
    async () => {
      if (exited) throw new Error(`code-server exited early:\n${tail(logFile)}`);
      const response = await fetch(`${url}/healthz`);
      return response.ok;
    },
    CODE_SERVER_READY_MS,
  ).catch(async (error) => {
    await stopGroup(child.pid);
    throw error;
  });
  return {
    pgid: child.pid,
    url,
    workbenchUrl: `${url}/?folder=${encodeURIComponent(workspace)}`,
    stop: () => stopGroup(child.pid),
  };
}

/**
 * Sandbox + code-server with the given VSIXes installed, a workspace made by `createWorkspace(dir)`,
 * logs in `artifacts`. `extraEnv` is added to code-server's environment (e.g. a results path).
 */
export async function startStack({ label, vsixes, createWorkspace, extraEnv = {}, settings = {}, port }) {
  const tools = requireTools();
  const artifacts = artifactsDir(label);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `ec2-runner-e2e-${label}-`));
  const removeDir = removeOnExit(dir);
  const extensionsDir = path.join(dir, 'extensions');
  const userDataDir = path.join(dir, 'user-data');
  fs.mkdirSync(path.join(userDataDir, 'User'), { recursive: true });
  fs.writeFileSync(
    path.join(userDataDir, 'User', 'settings.json'),
    JSON.stringify({ ...QUIET_SETTINGS, ...settings }, null, 2),
  );
  const workspace = path.join(dir, 'workspace');
  fs.mkdirSync(workspace);
  createWorkspace?.(workspace);

  const stopped = [];
  const stop = async () => {
    await Promise.all(stopped.splice(0).map((stopOne) => stopOne()));
    // VS Code's own logs (extension host, output channels) help explain a failure.
    const logs = path.join(userDataDir, 'logs');
    if (fs.existsSync(logs)) fs.cpSync(logs, path.join(artifacts, 'vscode-logs'), { recursive: true });
    removeDir();
  };
  try {
    const started = Date.now();
    await installExtensions({
      tools,
      extensionsDir,
      userDataDir,
      vsixes,
      logFile: path.join(artifacts, 'install-extension.log'),
    });
    const sandbox = await startSandbox({ dir, logFile: path.join(artifacts, 'sandbox.log') });
    stopped.push(sandbox.stop);
    const env = { ...sandboxEnvironment(sandbox.info, dir), ...extraEnv };
    const codeServer = await startCodeServer({
      tools,
      env,
      workspace,
      extensionsDir,
      userDataDir,
      port,
      logFile: path.join(artifacts, 'code-server.log'),
    });
    stopped.push(codeServer.stop);
    console.log(
      `[e2e] ${label}: sandbox + code-server ready in ${((Date.now() - started) / 1000).toFixed(1)} s at ` +
        `${codeServer.url}`,
    );
    return { dir, artifacts, workspace, userDataDir, sandbox, codeServer, env, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
