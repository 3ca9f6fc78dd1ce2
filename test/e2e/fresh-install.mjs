// The fresh-machine path of install.mjs, for real: Node 24 and code-server installed into an empty
// $EC2_RUNNER_E2E_CACHE by a process that carries what `npm run test:e2e` under Node 20 exports
// (npm_config_user_agent "npm/… node/v20…" and the rest). code-server's postinstall reads that user
// agent and refused Node 20's; the installer must hand its inner npm none of it. Proof: the postinstall
// prints the user agent it sees ("User agent: …"), which must name Node 24, and the install completes.
// Opt-in (it downloads ~100 MB from the registry and compiles code-server's native modules):
// `npm run test:e2e -- --fresh-cache` runs it first and the suites on what it installed.
import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CODE_SERVER_VERSION, NODE_MAJOR, toolPaths } from './install.mjs';

const INSTALLER = path.join(path.dirname(fileURLToPath(import.meta.url)), 'install.mjs');

/** What npm 10 on Node 20 exports to `npm run test:e2e`, in part: the variables that broke the install. */
export function outerNpmVariables() {
  return {
    npm_config_user_agent: `npm/10.8.2 node/${process.version} ${process.platform} ${process.arch} workspaces/false`,
    npm_config_node_version: process.versions.node,
    npm_lifecycle_event: 'test:e2e',
    npm_lifecycle_script: 'node test/e2e/run.mjs',
    npm_node_execpath: process.execPath,
  };
}

/** The user agents code-server's postinstall reported (one per npm install it ran). */
export function reportedUserAgents(output) {
  return [...output.matchAll(/^User agent: (.*)$/gm)].map((match) => match[1].trim());
}

/**
 * Installs into a new empty cache folder and checks the result; returns { root, seconds }. Throws with
 * the installer's last output lines when anything is wrong. `logFile` receives the whole output.
 */
export async function freshInstall({ logFile } = {}) {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'ec2-runner-e2e-fresh-'));
  const env = { ...process.env, ...outerNpmVariables(), EC2_RUNNER_E2E_CACHE: root };
  const started = Date.now();
  console.log(`[e2e-fresh] installing Node ${NODE_MAJOR} and code-server ${CODE_SERVER_VERSION} into ${root}`);
  const { code, output } = await new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [INSTALLER], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let text = '';
    const keep = (chunk) => {
      text += chunk;
      process.stdout.write(chunk);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    child.on('error', reject);
    child.on('close', (exitCode) => resolve({ code: exitCode, output: text }));
  });
  if (logFile) fs.writeFileSync(logFile, output);
  const fail = (why) => {
    fs.rmSync(root, { recursive: true, force: true });
    throw new Error(`[e2e-fresh] ${why}\n${output.split('\n').slice(-30).join('\n')}`);
  };
  if (code !== 0) fail(`install.mjs exited ${code}`);
  const agents = reportedUserAgents(output);
  if (agents.length === 0) fail("code-server's postinstall reported no user agent (did it run?)");
  const foreign = agents.filter((agent) => !new RegExp(`\\bnode/v${NODE_MAJOR}\\.`).test(agent));
  if (foreign.length > 0) fail(`the inner npm saw another Node's user agent: ${foreign.join('; ')}`);
  const paths = toolPaths(root);
  const version = execFileSync(paths.node24, [paths.codeServerEntry, '--version'], { encoding: 'utf8' });
  if (!version.startsWith(CODE_SERVER_VERSION)) fail(`code-server --version says ${version.trim()}`);
  const seconds = Math.round((Date.now() - started) / 1000);
  console.log(`[e2e-fresh] installed and checked in ${seconds} s (user agents: ${agents.join('; ')})`);
  return { root, seconds };
}
