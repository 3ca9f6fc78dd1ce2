// The npm package as a user gets it: `npm pack`, then an offline install of the tarball into an
// empty folder. The CLI runs through npx, the library loads with require() and type-checks with
// its declarations; the tarball carries no tests, sources or source maps and fetches no dependency.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = join(__dirname, '..', '..', '..');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const MAX_TARBALL_BYTES = 1.5 * 1024 * 1024;
const npm = (args: string[], cwd: string) =>
  execFileSync('npm', args, {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, npm_config_update_notifier: 'false' },
    timeout: 240_000,
  });

describe('the npm package', () => {
  let dir: string;
  let tarball: string;
  let packed: { size: number; files: Array<{ path: string }> };

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'ec2-runner-npm-package-'));
    // What prepack does besides the production bundles (the bundles of `npm run build` are used as they are).
    execFileSync(
      process.execPath,
      [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(root, 'tsconfig.types.json')],
      { cwd: root, timeout: 240_000 },
    );
    [packed] = JSON.parse(npm(['pack', '--ignore-scripts', '--json', '--pack-destination', dir], root));
    tarball = join(dir, `${pkg.name}-${pkg.version}.tgz`);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('bin, exports and types name files that are in the tarball; no tests, sources or maps; at most 1.5 MB', () => {
    const files = packed.files.map((f) => f.path);
    for (const needed of [
      pkg.bin['ec2-runner'],
      pkg.exports['.'].default,
      pkg.exports['.'].types,
      pkg.types,
      'dist/engine.js',
      'README.md',
      'LICENSE',
    ]) {
      assert.ok(files.includes(needed.replace(/^\.\//, '')), `${needed} is packed`);
    }
    assert.deepEqual(
      files.filter((f) => /\.map$|^(test|src|out|bench|scripts)\//.test(f)),
      [],
    );
    assert.ok(packed.size <= MAX_TARBALL_BYTES, `tarball ${packed.size} bytes`);
  });

  test('no runtime dependency for npm to fetch: everything is bundled', () => {
    assert.equal(pkg.dependencies, undefined);
    assert.equal(pkg.peerDependencies, undefined);
  });

  test('installed offline into an empty folder: npx ec2-runner --help, require() and the types work', () => {
    const app = join(dir, 'app');
    execFileSync('mkdir', ['-p', app]);
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'consumer', private: true }));
    npm(['install', '--offline', '--no-audit', '--no-fund', tarball], app);
    const help = execFileSync('npx', ['--no-install', 'ec2-runner', '--help'], {
      cwd: app,
      encoding: 'utf8',
      timeout: 60_000,
    });
    assert.match(help, /^ec2-runner — run a file or a shell command on EC2 instances/);
    const loaded = execFileSync(
      process.execPath,
      ['-e', "const m = require('ec2-runner'); console.log(typeof m.createEngine, typeof m.RunnerError)"],
      { cwd: app, encoding: 'utf8' },
    );
    assert.equal(loaded, 'function function\n');
    writeFileSync(
      join(app, 'use.ts'),
      "import { createEngine, type RunRequest } from 'ec2-runner';\nconst request: RunRequest = { source: { " +
        "kind: 'command', command: 'uptime' }, target: { kind: 'instances', instanceIds: " +
        "['i-0123456789abcdef0'] } };\nexport const engine = createEngine({ region: 'us-east-1' });\nexport " +
        'const started = engine.start(request);\n',
    );
    execFileSync(
      process.execPath,
      [
        join(root, 'node_modules', 'typescript', 'bin', 'tsc'),
        '--noEmit',
        '--strict',
        '--skipLibCheck',
        '--types',
        'node',
        '--typeRoots',
        join(root, 'node_modules', '@types'),
        'use.ts',
      ],
      { cwd: app, encoding: 'utf8', timeout: 120_000 },
    );
  });
});
