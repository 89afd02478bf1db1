// `npm run lint`: typescript-eslint's recommended type-checked rules on every
// TypeScript file, and the import direction of DESIGN §3 (scripts/lint/boundaries.mjs).
import js from '@eslint/js';
import { defineConfig } from 'eslint/config';
import tseslint from 'typescript-eslint';
import { boundaries } from './scripts/lint/boundaries.mjs';

export default defineConfig(
  {
    ignores: ['dist/**', 'out/**', 'node_modules/**', 'test-results/**', '.vscode-test/**', '.cache/**', 'src/engine/wasm/binaries.generated.ts'],
  },
  js.configs.recommended,
  tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      // `_`-prefixed parameters and caught errors are deliberately unused (tsc's noUnused* already checks the rest).
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      // Indexed reads are written `a[i]!` on purpose (the code is ready for noUncheckedIndexedAccess); without that flag every one is "unnecessary".
      '@typescript-eslint/no-unnecessary-type-assertion': 'off',
      // Stripping control characters from user-visible text is what these regular expressions are for.
      'no-control-regex': 'off',
      // Handlers are async to fit an async interface (commander actions, VS Code serializers) whether or not they await.
      '@typescript-eslint/require-await': 'off',
      // The engine loads Node-only modules lazily so it stays importable where they do not exist.
      '@typescript-eslint/no-require-imports': ['error', { allow: ['^node:'] }],
      // Rethrowing what a catch received is fine; constructing a non-Error is not.
      '@typescript-eslint/only-throw-error': ['error', { allowThrowingAny: true, allowThrowingUnknown: true }],
      // Shapes print as `2,3`; an exhaustiveness message prints the `never` it got.
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true, allowArray: true, allowNever: true }],
    },
  },
  {
    // A helper thread's failure is rethrown once the other threads finished: it is whatever the helper threw.
    files: ['src/engine/wasm/threads.ts'],
    rules: { '@typescript-eslint/only-throw-error': 'off' },
  },
  {
    files: ['test/**/*.ts', 'scripts/vscode-test/**/*.ts'],
    rules: {
      // node:test's test() and describe() return promises the runner awaits.
      '@typescript-eslint/no-floating-promises': ['error', {
        allowForKnownSafeCalls: [{ from: 'package', package: 'node:test', name: ['test', 'describe', 'it', 'suite', 'before', 'after', 'beforeEach', 'afterEach'] }],
      }],
      // Tests read JSON, worker messages and Chromium pages (page.evaluate runs untyped code): `any` is their material.
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/restrict-template-expressions': 'off',
      // The test runners hand out plain functions (`const test = runner.test`).
      '@typescript-eslint/unbound-method': 'off',
      // Hostile-input tests write out-of-range literals (1e400) on purpose.
      'no-loss-of-precision': 'off',
    },
  },
  {
    // Build scripts are plain JavaScript run by Node.
    files: ['**/*.mjs', '**/*.js'],
    extends: [tseslint.configs.disableTypeChecked],
    languageOptions: { globals: { console: 'readonly', process: 'readonly', URL: 'readonly', require: 'readonly', module: 'writable', __filename: 'readonly', __dirname: 'readonly' } },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  boundaries,
);
