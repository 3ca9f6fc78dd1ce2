// test/e2e/install.mjs under `npm run test:e2e`: the outer npm's variables must not reach the inner
// installs (code-server's postinstall reads npm_config_user_agent and refuses Node 20's).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const installer = pathToFileURL(path.join(__dirname, '..', '..', '..', 'test', 'e2e', 'install.mjs')).href;
// A real dynamic import (tsc would turn `import()` into require(), which cannot load an ES module).
const load = new Function('specifier', 'return import(specifier)') as (
  specifier: string,
) => Promise<{ installerEnvironment(env: NodeJS.ProcessEnv, nodeBinDir?: string): NodeJS.ProcessEnv }>;

/** What `npm run test:e2e` (npm 10 on Node 20) exports to its script, in part. */
const OUTER = {
  PATH: '/usr/bin:/bin',
  HOME: '/home/u',
  npm_config_user_agent: 'npm/10.8.2 node/v20.19.0 linux x64 workspaces/false',
  npm_lifecycle_event: 'test:e2e',
  npm_lifecycle_script: 'node test/e2e/run.mjs',
  npm_package_name: 'ec2-runner',
  npm_config_prefix: '/work/repo',
  npm_config_local_prefix: '/work/repo',
  npm_config_node_version: '20.19.0',
  npm_node_execpath: '/usr/bin/node',
  npm_config_registry: 'https://registry.example/',
  npm_config_cache: '/home/u/.npm',
};

describe('e2e installer environment', () => {
  test("drops the outer npm's own variables, keeps registry and cache, puts Node 24 first on PATH", async () => {
    const { installerEnvironment } = await load(installer);
    const env = installerEnvironment(OUTER, '/cache/node-24/bin');
    for (const name of [
      'npm_config_user_agent',
      'npm_lifecycle_event',
      'npm_lifecycle_script',
      'npm_package_name',
      'npm_config_prefix',
      'npm_config_local_prefix',
      'npm_config_node_version',
      'npm_node_execpath',
    ]) {
      assert.equal(env[name], undefined, name);
    }
    assert.equal(env.npm_config_registry, 'https://registry.example/');
    assert.equal(env.npm_config_cache, '/home/u/.npm');
    assert.equal(env.HOME, '/home/u');
    assert.equal(env.PATH, `/cache/node-24/bin${path.delimiter}/usr/bin:/bin`);
    assert.equal(installerEnvironment(OUTER).PATH, '/usr/bin:/bin');
    assert.equal(env.JOBS, 'max', 'node-gyp compiles on every CPU');
    assert.equal(installerEnvironment({ ...OUTER, JOBS: '1' }).JOBS, '1', 'unless the user chose');
  });

  test('npm really takes its user agent from the inherited variable, and not once it is scrubbed', async () => {
    const { installerEnvironment } = await load(installer);
    const userAgent = (env: NodeJS.ProcessEnv) =>
      execFileSync('npm', ['config', 'get', 'user-agent'], { env, encoding: 'utf8', timeout: 60_000 }).trim();
    const poisoned = { ...process.env, npm_config_user_agent: 'npm/10.8.2 node/v20.0.0 from-the-outer-npm' };
    assert.match(userAgent(poisoned), /from-the-outer-npm/, "without scrubbing, the outer npm's agent wins");
    const scrubbed = userAgent(installerEnvironment(poisoned));
    assert.doesNotMatch(scrubbed, /from-the-outer-npm/);
    assert.match(
      scrubbed,
      /node\/\{node-version\}/,
      "npm's own template: filled with the Node that runs it (Node 24 for code-server)",
    );
  });
});

describe('the fresh-cache e2e step (test/e2e/fresh-install.mjs)', () => {
  const freshInstaller = pathToFileURL(path.join(__dirname, '..', '..', '..', 'test', 'e2e', 'fresh-install.mjs')).href;
  type Fresh = { outerNpmVariables(): NodeJS.ProcessEnv; reportedUserAgents(output: string): string[] };

  test("poses as the outer npm, whose variables the installer must drop, and reads the postinstall's report", async () => {
    const { installerEnvironment } = await load(installer);
    const fresh = (await load(freshInstaller)) as unknown as Fresh;
    const outer = fresh.outerNpmVariables();
    assert.match(outer.npm_config_user_agent ?? '', new RegExp(`node/${process.version} `));
    for (const name of Object.keys(outer)) assert.equal(installerEnvironment(outer)[name], undefined, name);
    const output = 'Installing Code dependencies...\nUser agent: npm/11.6.0 node/v24.11.1 linux x64\nok\n';
    assert.deepEqual(fresh.reportedUserAgents(output), ['npm/11.6.0 node/v24.11.1 linux x64']);
    assert.deepEqual(fresh.reportedUserAgents('no report\n'), []);
  });
});
