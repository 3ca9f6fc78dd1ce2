// Lint that guards the layers (ARCHITECTURE.md): `vscode` only in src/extension; core imports nothing
// from the CLI, the extension or the sandbox; the sandbox takes from core only the dependency-free
// limits module and the Session Manager wire protocol it must speak byte for byte; the extension takes
// core through one entry (src/core/frontEnd.ts), never its leaf files. `npm run lint` runs in `npm test`.
// Formatting is Prettier's (.prettierrc.json), not lint's.
import js from '@eslint/js';
import stylistic from '@stylistic/eslint-plugin';
import tseslint from 'typescript-eslint';

/** An import of a top-level room of src from inside another one: `../cli/x`, `../../sandbox`. */
const room = (names, except = '') => `^(\\.\\./)+(${names})(/${except}.*)?$`;
const noVscode = { name: 'vscode', message: '`vscode` is imported only in src/extension (ARCHITECTURE.md).' };

export default tseslint.config(
  {
    ignores: [
      'out/**',
      'dist/**',
      'node_modules/**',
      '.vscode-test/**',
      '.wip/**',
      '**/fixtures/**',
      'coverage/**',
      'reports/**',
      '.stryker-tmp/**',
      'src/core/remote/wrapperSource.generated.ts',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    languageOptions: {
      globals: {
        console: 'readonly',
        process: 'readonly',
        require: 'readonly',
        module: 'writable',
        __dirname: 'readonly',
        Buffer: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
        setInterval: 'readonly',
        clearInterval: 'readonly',
        setImmediate: 'readonly',
        clearImmediate: 'readonly',
        URL: 'readonly',
        URLSearchParams: 'readonly',
        TextEncoder: 'readonly',
        TextDecoder: 'readonly',
        AbortController: 'readonly',
        AbortSignal: 'readonly',
        fetch: 'readonly',
        structuredClone: 'readonly',
        queueMicrotask: 'readonly',
        performance: 'readonly',
        globalThis: 'readonly',
        NodeJS: 'readonly',
        crypto: 'readonly',
        Response: 'readonly',
        Request: 'readonly',
        Headers: 'readonly',
        FormData: 'readonly',
        Blob: 'readonly',
        WebSocket: 'readonly',
        EventTarget: 'readonly',
        Event: 'readonly',
        document: 'readonly',
        window: 'readonly',
        navigator: 'readonly',
      },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' },
      ],
      // Names, paths and output are checked for control characters on purpose.
      'no-control-regex': 'off',
      // A closure that reads a variable assigned once, later (a server handing out itself).
      'prefer-const': ['error', { ignoreReadBeforeAssign: true }],
      // A value assigned and never read is a dead store, or a bug where the code meant to read it.
      'no-useless-assignment': 'error',
    },
  },
  {
    plugins: { '@stylistic': stylistic },
    rules: {
      // Prettier wraps code at 120 but not strings or comments: those are wrapped by hand (a string as
      // a concatenation, so its value is unchanged). A test's title line may run longer: wrapping it
      // would re-indent the whole test body.
      '@stylistic/max-len': [
        'error',
        {
          code: 120,
          ignoreUrls: true,
          ignoreRegExpLiterals: true,
          ignorePattern: String.raw`^\s*(test|it|describe|suite)(\.\w+)?\(`,
        },
      ],
    },
  },
  {
    // Bundles loaded on first use (the engine, the sandbox) and probes that load built files: require() on purpose.
    files: ['src/extension/extension.ts', 'bench/**/*.ts', 'test/**/*.ts'],
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    // Tests read loosely typed JSON from tools and throw plain errors from their harness.
    files: ['test/**/*.ts', 'test/**/*.mjs', 'test/**/*.js'],
    rules: { '@typescript-eslint/no-explicit-any': 'off', 'preserve-caught-error': 'off' },
  },
  {
    files: ['src/**/*.ts'],
    ignores: ['src/extension/**'],
    rules: { 'no-restricted-imports': ['error', { paths: [noVscode] }] },
  },
  {
    files: ['src/core/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [noVscode],
          patterns: [
            {
              regex: room('cli|extension|sandbox'),
              message: 'Core imports nothing from the CLI, the extension or the sandbox.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['src/sandbox/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [noVscode],
          patterns: [
            { regex: room('cli|extension'), message: 'The sandbox imports nothing from the CLI or the extension.' },
            {
              regex: room('core', '(?!(awsLimits|session/message|session/reliable|session/smux)$)'),
              message:
                'The sandbox takes from core only awsLimits (and the Session Manager wire protocol in core/session).',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['src/extension/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: room('cli|sandbox'),
              allowTypeImports: true,
              message:
                'The extension loads the sandbox bundle at run time (types only here); ' +
                'it imports nothing else from the CLI or the sandbox.',
            },
            {
              regex: room('core', '(?!frontEnd$)'),
              message: 'The extension takes core through src/core/frontEnd.ts only.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['src/cli/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [noVscode],
          patterns: [{ regex: room('extension'), message: 'The CLI imports nothing from the extension.' }],
        },
      ],
    },
  },
  {
    files: ['**/*.js', '**/*.mjs', '**/*.cjs'],
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
);
