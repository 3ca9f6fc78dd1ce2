// Builds one bundle per entry point with esbuild.
// - dist/extension.js: the VS Code extension (CommonJS, `vscode` external). It must stay free of
//   AWS SDK code so activate() is cheap; it loads dist/engine.js on first use.
// - dist/engine.js: the engine (src/core) with the AWS SDK; also the package's library entry
//   (a Lambda or any Node program can require it).
// - dist/sandbox.js: the sandbox (src/sandbox), for the extension's "Try It Without AWS".
// - dist/cli.js: the `ec2-runner` command.
import { build } from 'esbuild';
import { chmodSync } from 'node:fs';
import { embedWrapper } from './embedWrapper.mjs';

const watch = process.argv.includes('--watch');
const production = process.argv.includes('--production');

const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  sourcemap: production ? false : 'linked',
  minify: production,
  legalComments: 'none',
  logLevel: 'warning',
  // The SDK ships ESM and CJS; prefer the CJS "main" of each package for a CommonJS bundle.
  mainFields: ['main', 'module'],
  // ws loads these optional native speed-ups inside try/catch; without them it uses plain JS.
  external: ['bufferutil', 'utf-8-validate'],
};

const entries = [
  {
    entryPoints: ['src/extension/extension.ts'],
    outfile: 'dist/extension.js',
    external: [...common.external, 'vscode'],
  },
  { entryPoints: ['src/core/index.ts'], outfile: 'dist/engine.js' },
  // The sandbox, loaded by the extension only for "Try It Without AWS".
  { entryPoints: ['src/sandbox/index.ts'], outfile: 'dist/sandbox.js' },
  { entryPoints: ['src/cli/main.ts'], outfile: 'dist/cli.js', banner: { js: '#!/usr/bin/env node' } },
];

embedWrapper(); // src/core/remote/wrapper/*.py, joined, into the engine (see embedWrapper.mjs)
await Promise.all(entries.map((e) => build({ ...common, ...e })));
chmodSync('dist/cli.js', 0o755);
if (watch) console.log('watch mode is not supported; run npm run build again');
