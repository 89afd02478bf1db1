// The import direction of DESIGN §3 as ESLint rules, one block per layer:
//
//   engine     imports nothing of ours
//   shared     the engine's types and its pure modules (PURE_ENGINE), nothing above it
//   worker     engine and shared          cli, bench   engine and shared
//   extension  shared, the engine's types and pure modules; talks to workers by messages alone
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

/**
 * Engine modules with no numeric work in them (settings and their checks,
 * errors, what each model family is and what it costs): the extension host
 * and src/shared/ may use them; everything else of the engine runs in a
 * worker or the CLI. test/unit/hostThread.test.ts holds the extension bundle
 * to the same list. Paths below src/engine/, `*` one folder name.
 */
export const PURE_ENGINE = [
  'config', 'errors', 'floats', 'memory', 'optim', 'text', 'quote', 'threadCount',
  'schedule', 'models/catalog', 'models/*/info',
  // What the block families' info is made of (shapes, sizes, checks).
  'models/blocks/config', 'models/blocks/flops', 'models/blocks/memory', 'models/blocks/specs', 'models/rnn/activation', 'run/settings', 'run/resolve',
];

const pureAlternatives = PURE_ENGINE.map((m) => m.replace('*', '[a-z0-9]+')).join('|');
/** ../engine/<anything but a pure module>. */
const impureEngine = `^(\\.\\./)+engine/(?!(${pureAlternatives})$)`;

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
        { regex: impureEngine, allowTypeImports: true, message: 'src/shared/ may import engine types and pure modules only (PURE_ENGINE in scripts/lint/boundaries.mjs): it is loaded by the extension host and the webviews.' },
        { regex: '^(\\.\\./)+engine$', allowTypeImports: true, message: 'Import the pure engine module itself, not the engine index.' },
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
    rules: restrict([
      { regex: impureEngine, allowTypeImports: true, message: 'The extension host runs no engine code (it would block its thread): ask a worker; import engine types and pure modules only (PURE_ENGINE).' },
      { regex: '^(\\.\\./)+engine$', allowTypeImports: true, message: 'The extension host runs no engine code: import the pure engine module itself, not the engine index.' },
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
