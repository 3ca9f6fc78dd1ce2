// Shared by the extension-host suites: the extension's test API, polling, scratch files, and the
// sandbox's instances as the Instances view lists them.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as vscode from 'vscode';
import type { InstanceNode, InstancesNode } from '../../../src/extension/instancesView';
import type { Ec2RunnerTestApi } from '../../../src/extension/testApi';

export const EXTENSION_ID = 'ec2-runner.ec2-runner';

export function extension(): vscode.Extension<Ec2RunnerTestApi> {
  const ext = vscode.extensions.getExtension<Ec2RunnerTestApi>(EXTENSION_ID);
  assert.ok(ext, `extension ${EXTENSION_ID} is installed`);
  return ext;
}

export async function api(): Promise<Ec2RunnerTestApi> {
  const testApi: Ec2RunnerTestApi | undefined = await extension().activate();
  assert.ok(testApi, 'the extension hands out its test API under test (ExtensionMode.Test, or EC2_RUNNER_TEST_API=1)');
  return testApi;
}

/** Polls `condition` until it returns a truthy value (bounded); fails with `what` and the last value seen. */
export async function waitFor<T>(
  what: string,
  condition: () => T | Promise<T>,
  timeoutMs = 60_000,
  intervalMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  while (Date.now() < deadline) {
    last = await condition();
    if (last) return last;
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  assert.fail(`timed out after ${timeoutMs} ms waiting for ${what} (last: ${JSON.stringify(last)?.slice(0, 500)})`);
}

/** `promise`, or a failure naming `what` after `timeoutMs`. */
export async function within<T>(timeoutMs: number, what: string, promise: Thenable<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>(
    (_, reject) =>
      (timer = setTimeout(() => reject(new Error(`no answer from ${what} within ${timeoutMs} ms`)), timeoutMs)),
  );
  try {
    return await Promise.race([Promise.resolve(promise), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** The suites need the sandbox's variables (the runner starts it and passes its environment). */
export function requireSandboxEnvironment(): void {
  for (const key of ['AWS_ENDPOINT_URL', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'EC2_RUNNER_BUCKET']) {
    assert.ok(
      process.env[key],
      `${key} is set in the extension host's environment (start the host with the sandbox's variables)`,
    );
  }
}

/** A scratch folder inside the workspace (or the temp dir without one). */
export function scratchDir(): string {
  const base = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath ?? os.tmpdir();
  const dir = path.join(base, '.ec2-runner-host-tests');
  fs.mkdirSync(dir, { recursive: true });
  return dir;
}

export async function openScript(name: string, text: string): Promise<vscode.TextEditor> {
  const file = path.join(scratchDir(), name);
  fs.writeFileSync(file, text);
  const document = await vscode.workspace.openTextDocument(file);
  return vscode.window.showTextDocument(document);
}

export async function instanceNodes(testApi: Ec2RunnerTestApi): Promise<InstanceNode[]> {
  const children = await testApi.instancesProvider.getChildren();
  return children.filter((n: InstancesNode): n is InstanceNode => 'instance' in n);
}

export async function onlineNode(testApi: Ec2RunnerTestApi): Promise<InstanceNode> {
  const node = (await instanceNodes(testApi)).find((n) => n.instance.pingStatus === 'Online');
  assert.ok(node, 'the sandbox has an Online instance');
  return node;
}

export async function setSetting(key: string, value: unknown): Promise<void> {
  await vscode.workspace.getConfiguration('ec2Runner').update(key, value, vscode.ConfigurationTarget.Global);
}

/** The history record of the newest run once it has ended. */
export async function finishedRun(testApi: Ec2RunnerTestApi, afterCount: number) {
  return waitFor('the run to finish', () => {
    const all = testApi.history();
    return all.length > afterCount && all[0].state === 'finished' ? all[0] : undefined;
  });
}
