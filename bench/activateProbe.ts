// Child process: loads dist/extension.js with a fake `vscode`, times require + activate(), and
// lists the AWS SDK modules present in require.cache right after activate() resolved.
// Usage: node activateProbe.js <dist/extension.js> <scratch dir>
import Module from 'node:module';
import { performance } from 'node:perf_hooks';
import { reportJson } from './childJson';
import { fakeExtensionContext, fakeVscodeModule } from './fakeVscode';

const SDK_MODULE = /[\\/]node_modules[\\/](@aws-sdk|@smithy|@aws-crypto)[\\/]|[\\/]dist[\\/]engine\.js$/;

interface ModuleInternals {
  _resolveFilename(request: string, ...rest: unknown[]): string;
}

function installFakeVscode(touched: Set<string>): void {
  const internals = Module as unknown as ModuleInternals;
  const resolve = internals._resolveFilename;
  internals._resolveFilename = function (request: string, ...rest: unknown[]) {
    return request === 'vscode' ? 'vscode' : resolve.call(this, request, ...rest);
  };
  const fake = new Module('vscode');
  fake.filename = 'vscode';
  fake.loaded = true;
  fake.exports = fakeVscodeModule(touched);
  require.cache.vscode = fake;
}

function sdkModulesLoaded(): string[] {
  return Object.keys(require.cache).filter((key) => SDK_MODULE.test(key));
}

async function main(): Promise<void> {
  const [extensionPath, scratch] = process.argv.slice(2);
  const touched = new Set<string>();
  installFakeVscode(touched);
  const context = fakeExtensionContext(scratch, scratch, touched);
  const t0 = performance.now();
  const extension = require(extensionPath) as { activate(context: unknown): unknown; deactivate?(): unknown };
  const t1 = performance.now();
  await extension.activate(context);
  const t2 = performance.now();
  const duringActivate = sdkModulesLoaded();
  // Work the extension scheduled for "just after" activation shows up here.
  await new Promise((resolve) => setTimeout(resolve, 300));
  const afterSettle = sdkModulesLoaded();
  reportJson({
    loadMs: t1 - t0,
    activateCallMs: t2 - t1,
    activateMs: t2 - t0,
    sdkModulesDuringActivate: duringActivate,
    sdkModulesAfterSettle: afterSettle.length,
    stubbedVscodeApi: [...touched].filter((name) => !name.includes('()')).sort(),
  });
  await extension.deactivate?.();
  process.exit(0);
}

main().catch((error: unknown) => {
  process.stderr.write(`activate probe failed: ${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
