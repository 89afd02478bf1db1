// The import direction of DESIGN §3 as ESLint rules, one block per layer:
//
//   engine     imports nothing of ours
//   shared     imports only types from the engine (and nothing above it)
//   worker     engine and shared          cli, bench   engine and shared
//   extension  shared, engine types only; talks to workers by messages alone
//   webview    shared only (and its own folder, chart.js, @vscode-elements)
//
// Specifiers are matched as written (relative paths), which is exact here: no
// folder below src/ repeats a layer's name. `import type` is allowed where a
// layer may see another's types; typescript-eslint's rule tells the two apart.
// test/unit/lint.test.ts lints fixture imports against these blocks.

const RULE = '@typescript-eslint/no-restricted-imports';

/** A relative specifier that reaches the top-level folder `layer` of src/ (any depth of ../). */
const up = (layers) => `^(\\.\\./)+(${layers.join('|')})(/|$)`;
/** The same from outside src/ (webview/, bench/): ../src/<layer>. */
const intoSrc = (layers) => `^(\\.\\./)+src/(${layers.join('|')})(/|$)`;

const restrict = (patterns, paths = []) => ({ [RULE]: ['error', { paths, patterns }] });

const VSCODE = { name: 'vscode', message: 'Only src/extension/ may import vscode.' };

/** Extension files that still run engine code on the host thread (issue #8: decode, validate and benchmark move to a worker). */
export const HOST_ENGINE_EXCEPTIONS = [
  'src/extension/commands.ts',
  'src/extension/presets.ts',
  'src/extension/settings.ts',
  'src/extension/sourceText.ts',
];

export const boundaries = [
  {
    name: 'rnn-lab/boundaries/engine',
    files: ['src/engine/**/*.ts'],
    rules: restrict(
      [{ regex: up(['shared', 'worker', 'extension', 'cli', 'webview']), message: 'The engine imports nothing of ours (DESIGN §3).' }],
      [VSCODE],
    ),
  },
  {
    name: 'rnn-lab/boundaries/shared',
    files: ['src/shared/**/*.ts'],
    rules: restrict(
      [
        { regex: up(['engine']), allowTypeImports: true, message: 'src/shared/ may import engine types only (`import type`): it is loaded by the extension host and the webviews.' },
        { regex: up(['worker', 'extension', 'cli', 'webview']), message: 'src/shared/ imports nothing above it (DESIGN §3).' },
      ],
      [VSCODE],
    ),
  },
  {
    name: 'rnn-lab/boundaries/worker',
    files: ['src/worker/**/*.ts'],
    rules: restrict([{ regex: up(['extension', 'cli', 'webview']), message: 'A worker imports the engine and src/shared/ only (DESIGN §3).' }], [VSCODE]),
  },
  {
    name: 'rnn-lab/boundaries/cli',
    files: ['src/cli/**/*.ts'],
    rules: restrict([{ regex: up(['extension', 'worker', 'webview']), message: 'The CLI imports the engine and src/shared/ only (DESIGN §3).' }], [VSCODE]),
  },
  {
    name: 'rnn-lab/boundaries/bench',
    files: ['bench/**/*.ts'],
    rules: restrict([{ regex: intoSrc(['extension', 'worker', 'cli']), message: 'The benchmark imports the engine and src/shared/ only; it reaches workers through their bundles.' }], [VSCODE]),
  },
  {
    name: 'rnn-lab/boundaries/extension',
    files: ['src/extension/**/*.ts'],
    ignores: HOST_ENGINE_EXCEPTIONS,
    rules: restrict([
      { regex: up(['engine']), allowTypeImports: true, message: 'The extension host runs no engine code (it would block its thread): ask a worker, import engine types only.' },
      { regex: up(['worker']), message: 'The extension talks to workers only through messages (src/shared/ protocols).' },
      { regex: up(['cli', 'webview']), message: 'The extension does not import the CLI or webview code (pages are bundles it loads by URI).' },
    ]),
  },
  {
    name: 'rnn-lab/boundaries/extension-host-engine-exceptions',
    files: HOST_ENGINE_EXCEPTIONS,
    rules: restrict([
      { regex: up(['worker']), message: 'The extension talks to workers only through messages (src/shared/ protocols).' },
      { regex: up(['cli', 'webview']), message: 'The extension does not import the CLI or webview code (pages are bundles it loads by URI).' },
    ]),
  },
  {
    name: 'rnn-lab/boundaries/webview',
    files: ['webview/**/*.ts'],
    rules: restrict(
      [
        { regex: intoSrc(['engine', 'extension', 'worker', 'cli']), message: 'A webview imports src/shared/ only (DESIGN §3).' },
        { regex: '^node:', message: 'A webview runs in a browser: no Node modules.' },
      ],
      [VSCODE],
    ),
  },
];
