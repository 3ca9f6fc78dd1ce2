#!/usr/bin/env node
// Installs the real-VS Code toolchain for the e2e suites, once, cached outside the repository:
//   <cache>/node-24/                 npm package node@24 (Node 24 binary; code-server needs it)
//   <cache>/code-server-4.139.1/     npm package code-server, installed with Node 24's npm
// <cache> = $EC2_RUNNER_E2E_CACHE or ${XDG_CACHE_HOME:-$HOME/.cache}/ec2-runner-e2e.
// Each folder gets a marker file only after its install succeeded; a folder without the marker
// is a half-finished install and is removed before installing again. A lock folder keeps two
// concurrent runs from installing into the same place.
// Usage: node test/e2e/install.mjs            (install if needed, print paths and timings)
//        node test/e2e/install.mjs --check    (exit 1 if not installed, install nothing)
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const NODE_MAJOR = '24';
export const CODE_SERVER_VERSION = '4.139.1';
const MARKER = '.install-complete';
const LOCK_STALE_MS = 60 * 60 * 1000;

export function cacheRoot() {
  if (process.env.EC2_RUNNER_E2E_CACHE) return path.resolve(process.env.EC2_RUNNER_E2E_CACHE);
  const xdg = process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
  return path.join(xdg, 'ec2-runner-e2e');
}

/** Where everything lives once installed. */
export function toolPaths(root = cacheRoot()) {
  const nodeDir = path.join(root, `node-${NODE_MAJOR}`);
  const codeServerDir = path.join(root, `code-server-${CODE_SERVER_VERSION}`);
  return {
    root,
    nodeDir,
    node24: path.join(nodeDir, 'node_modules', 'node', 'bin', 'node'),
    node24BinDir: path.join(nodeDir, 'node_modules', 'node', 'bin'),
    codeServerDir,
    // Run with node24: `node24 codeServerEntry ...` (the .bin shim would pick whatever node is on PATH).
    codeServerEntry: path.join(codeServerDir, 'node_modules', 'code-server', 'out', 'node', 'entry.js'),
  };
}

export function isInstalled(paths = toolPaths()) {
  return (
    fs.existsSync(path.join(paths.nodeDir, MARKER)) &&
    fs.existsSync(paths.node24) &&
    fs.existsSync(path.join(paths.codeServerDir, MARKER)) &&
    fs.existsSync(paths.codeServerEntry)
  );
}

/** The npm CLI script of the machine's npm; run it with Node 24 to install code-server. */
function npmCliScript() {
  const candidates = [
    process.env.npm_execpath,
    path.join(path.dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'bin', 'npm-cli.js'),
  ].filter(Boolean);
  const found = candidates.find((p) => p.endsWith('npm-cli.js') && fs.existsSync(p));
  if (!found) throw new Error(`npm-cli.js not found (looked at ${candidates.join(', ')}); set npm_execpath to it`);
  return found;
}

// npm runs in its own process group (its install scripts start nested npm runs); stopping the
// installer stops that whole group, so no orphan keeps writing into a folder the next run discards.
function run(command, args, options) {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: 'inherit', detached: true, ...options });
    const killGroup = (signal) => {
      try {
        process.kill(-child.pid, signal);
      } catch {
        // Already gone.
      }
    };
    const stop = (signal) => {
      killGroup('SIGKILL');
      process.exit(128 + (signal === 'SIGINT' ? 2 : 15));
    };
    const onExit = () => killGroup('SIGKILL');
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    process.once('exit', onExit);
    child.on('exit', (code, signal) => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      process.off('exit', onExit);
      if (code === 0) resolve();
      else reject(new Error(`${command} ${args.join(' ')} failed (${signal ?? `exit ${code}`})`));
    });
    child.on('error', reject);
  });
}

async function withLock(root, fn) {
  fs.mkdirSync(root, { recursive: true });
  const lock = path.join(root, '.lock');
  const deadline = Date.now() + LOCK_STALE_MS;
  for (;;) {
    try {
      fs.mkdirSync(lock);
      fs.writeFileSync(path.join(lock, 'pid'), String(process.pid));
      break;
    } catch (error) {
      if (error.code !== 'EEXIST') throw error;
      if (lockOwnerIsGone(lock) || Date.now() > deadline) {
        fs.rmSync(lock, { recursive: true, force: true });
        continue;
      }
      await new Promise((r) => setTimeout(r, 2000));
    }
  }
  const release = () => fs.rmSync(lock, { recursive: true, force: true });
  process.once('exit', release);
  try {
    return await fn();
  } finally {
    release();
  }
}

function lockOwnerIsGone(lock) {
  try {
    const pid = Number(fs.readFileSync(path.join(lock, 'pid'), 'utf8'));
    process.kill(pid, 0);
    return false;
  } catch (error) {
    // No pid file yet (owner is between mkdir and write) counts as alive; ESRCH means gone.
    return error.code === 'ESRCH';
  }
}

/**
 * The environment of the inner `npm install`s. Under `npm run test:e2e` the outer npm exports
 * npm_config_* and npm_* variables describing itself (user agent "npm/… node/v20…", the project's
 * prefix, lifecycle event): code-server's postinstall reads npm_config_user_agent, sees Node 20 and
 * refuses to install. The inner npm must see neither, only the machine's own configuration.
 * With `nodeBinDir`, that Node comes first on PATH (code-server's scripts run `node`).
 */
export function installerEnvironment(env, nodeBinDir) {
  const clean = Object.fromEntries(
    Object.entries(env).filter(([name]) => !/^npm_/i.test(name) || KEPT_NPM_VARIABLES.has(name.toLowerCase())),
  );
  if (nodeBinDir) clean.PATH = `${nodeBinDir}${path.delimiter}${env.PATH ?? ''}`;
  // node-gyp compiles code-server's native modules on every CPU (one make job each by default); code-server
  // publishes no prebuilt ones on the npm registry (its release tarballs are not on it).
  clean.JOBS ??= 'max';
  return clean;
}

/** Where the machine's npm configuration and registry live: kept, the inner install needs them. */
const KEPT_NPM_VARIABLES = new Set([
  'npm_config_registry',
  'npm_config_userconfig',
  'npm_config_globalconfig',
  'npm_config_cache',
  'npm_config_proxy',
  'npm_config_https_proxy',
  'npm_config_noproxy',
  'npm_config_cafile',
  'npm_config_strict_ssl',
]);

/** Installs into `dir` unless its marker exists; a folder without marker is discarded first. */
async function installOnce(label, dir, install) {
  if (fs.existsSync(path.join(dir, MARKER))) {
    console.log(`[e2e-install] ${label}: cached at ${dir}`);
    return;
  }
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  // Own package.json so npm does not walk up into another project.
  fs.writeFileSync(
    path.join(dir, 'package.json'),
    JSON.stringify({ name: `ec2-runner-e2e-${path.basename(dir)}`, private: true }, null, 2),
  );
  const started = Date.now();
  console.log(`[e2e-install] ${label}: installing into ${dir}`);
  await install();
  fs.writeFileSync(path.join(dir, MARKER), new Date().toISOString() + '\n');
  console.log(`[e2e-install] ${label}: installed in ${((Date.now() - started) / 1000).toFixed(0)} s`);
}

export async function ensureInstalled(paths = toolPaths()) {
  if (isInstalled(paths)) return paths;
  const started = Date.now();
  await withLock(paths.root, async () => {
    const npmCli = npmCliScript();
    const quiet = ['--no-audit', '--no-fund', '--no-update-notifier'];
    await installOnce(`node@${NODE_MAJOR}`, paths.nodeDir, () =>
      run(process.execPath, [npmCli, 'install', ...quiet, `node@${NODE_MAJOR}`], {
        cwd: paths.nodeDir,
        env: installerEnvironment(process.env),
      }),
    );
    if (!fs.existsSync(paths.node24)) throw new Error(`node@${NODE_MAJOR} installed but ${paths.node24} is missing`);
    await installOnce(`code-server@${CODE_SERVER_VERSION}`, paths.codeServerDir, () =>
      run(paths.node24, [npmCli, 'install', ...quiet, '--foreground-scripts', `code-server@${CODE_SERVER_VERSION}`], {
        cwd: paths.codeServerDir,
        env: installerEnvironment(process.env, paths.node24BinDir),
      }),
    );
    if (!fs.existsSync(paths.codeServerEntry))
      throw new Error(`code-server installed but ${paths.codeServerEntry} is missing`);
  });
  console.log(`[e2e-install] ready in ${((Date.now() - started) / 1000).toFixed(0)} s (cache ${paths.root})`);
  return paths;
}

const isMain = process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (isMain) {
  const paths = toolPaths();
  if (process.argv.includes('--check')) {
    console.log(isInstalled(paths) ? `installed: ${paths.root}` : `not installed: ${paths.root}`);
    process.exit(isInstalled(paths) ? 0 : 1);
  }
  ensureInstalled(paths).then(
    (p) => console.log(`[e2e-install] node24=${p.node24}\n[e2e-install] code-server=${p.codeServerEntry}`),
    (error) => {
      console.error(
        `[e2e-install] FAILED: ${error.message}\n` +
          "code-server compiles native modules: it needs build tools and Debian's libkrb5-dev " +
          '(apt-get install -y libkrb5-dev). Rerun this script; a half-finished install is discarded.',
      );
      process.exit(1);
    },
  );
}
