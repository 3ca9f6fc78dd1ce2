#!/usr/bin/env node
// npm run demo:vscode: the extension in code-server against the sandbox, for a person to try.
// Installs code-server once (cached), builds the VSIX, starts the sandbox and code-server on
// 127.0.0.1, prints the URL, and runs until Ctrl-C; then stops both with their process groups.
// Flags: --skip-build, --port N (default: a free port).
import { ensureInstalled } from './install.mjs';
import { buildExtension, copyFixtureWorkspace } from './harness/build.mjs';
import { installCleanupHandlers } from './harness/processes.mjs';
import { findExtensionVsix, startStack } from './harness/stack.mjs';

const args = process.argv.slice(2);
const portIndex = args.indexOf('--port');
const port = portIndex >= 0 ? Number(args[portIndex + 1]) : undefined;
if (port !== undefined && !(Number.isInteger(port) && port > 0 && port < 65536)) {
  console.error(`--port needs a TCP port number (1-65535), got ${args[portIndex + 1]}`);
  process.exit(2);
}

installCleanupHandlers();
await ensureInstalled();
const vsix = args.includes('--skip-build') ? findExtensionVsix() : await buildExtension();
const stack = await startStack({ label: 'demo', vsixes: [vsix], createWorkspace: copyFixtureWorkspace, port });
const tunnelPort = new URL(stack.codeServer.url).port;
const instances = stack.sandbox.info.instances.map((i) => `${i.name} (${i.instanceId}, ${i.pingStatus})`).join(', ');
console.log(`
EC2 Runner demo: VS Code (code-server) with the extension, against the local sandbox.

  Open:       ${stack.codeServer.workbenchUrl}
  Workspace:  ${stack.workspace}  (hello.py, fail.py, long.py, reload.py)
  Instances:  ${instances}
  Logs:       ${stack.artifacts}

Try: open hello.py, right-click the editor, "Run Active File on EC2", pick an instance.
Reach it from another machine with an SSH tunnel: ssh -L ${tunnelPort}:127.0.0.1:${tunnelPort} <this host>
Press Ctrl-C to stop (sandbox and code-server are stopped with their process groups).`);
// The cleanup handlers stop both on Ctrl-C; until then keep the process alive.
setInterval(() => {}, 1 << 30);
