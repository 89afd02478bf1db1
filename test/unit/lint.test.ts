/**
 * The import-direction rules of DESIGN §3 (scripts/lint/boundaries.mjs) fire:
 * each forbidden import below, linted as if it sat in that layer's folder,
 * is an error, and each allowed one is not. Also checks that `npm run lint`'s
 * config (eslint.config.mjs) applies the rule to every layer.
 */
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { ESLint, Linter } from 'eslint';
import tseslint from 'typescript-eslint';

const ROOT = path.resolve(__dirname, '../..');
const RULE = '@typescript-eslint/no-restricted-imports';

async function boundaryConfig(): Promise<Linter.Config[]> {
  // Loaded by URL: it is the plain ES module eslint.config.mjs imports, with no type declarations.
  const mod = (await import(pathToFileURL(path.join(ROOT, 'scripts/lint/boundaries.mjs')).href)) as { boundaries: Linter.Config[] };
  return [
    { files: ['**/*.ts'], languageOptions: { parser: tseslint.parser as Linter.Parser }, plugins: { '@typescript-eslint': tseslint.plugin as unknown as ESLint.Plugin } },
    ...mod.boundaries,
  ];
}

/** The messages of the boundary rule for `code` placed at `file` (relative to the repository). */
async function violations(file: string, code: string): Promise<string[]> {
  const linter = new Linter({ configType: 'flat', cwd: ROOT });
  const messages = linter.verify(code, await boundaryConfig(), { filename: path.join(ROOT, file) });
  const fatal = messages.filter((m) => m.fatal);
  assert.deepEqual(fatal, [], 'the fixture parses');
  return messages.filter((m) => m.ruleId === RULE).map((m) => m.message);
}

const FORBIDDEN: [file: string, code: string, says: RegExp][] = [
  ['src/engine/models/lstm/cell.ts', "import { x } from '../../../shared/protocol';", /engine imports nothing of ours/],
  ['src/engine/graph.ts', "import type { X } from '../extension/library';", /engine imports nothing of ours/],
  ['src/engine/graph.ts', "import * as vscode from 'vscode';", /Only src\/extension\/ may import vscode/],
  ['src/shared/panels/lossData.ts', "import { Vocab } from '../../engine/vocab';", /engine types and pure modules only/],
  ['src/shared/experiment/spec.ts', "import { ConfigError } from '../../engine';", /not the engine index/],
  ['src/extension/presets.ts', "import { lstmFamily } from '../engine/models/lstm';", /runs no engine code/],
  ['src/shared/protocol.ts', "import { thing } from '../worker/port';", /imports nothing above it/],
  ['src/worker/trainerMain.ts', "import { Library } from '../extension/library';", /worker imports the engine and src\/shared\/ only/],
  ['src/cli/commands/report.ts', "import { x } from '../../extension/panels/lossPanel';", /CLI imports the engine and src\/shared\/ only/],
  ['src/extension/training.ts', "import { Trainer } from '../engine/trainer';", /runs no engine code/],
  ['src/extension/panels/lossPanel.ts', "export { serve } from '../../worker/port';", /only through messages/],
  ['webview/loss/state.ts', "import { Vocab } from '../../src/engine/vocab';", /webview imports src\/shared\/ only/],
  ['webview/hidden/main.ts', "import { readFileSync } from 'node:fs';", /runs in a browser/],
  ['webview/gradflow/main.ts', "import type { ModelEntry } from '../../src/extension/library';", /webview imports src\/shared\/ only/],
  ['bench/bench.ts', "import { presets } from '../src/extension/presets';", /benchmark imports the engine and src\/shared\/ only/],
];

const ALLOWED: [file: string, code: string][] = [
  ['src/engine/graph.ts', "import { gemm } from './kernels';\nimport { Vocab } from '../engine/vocab';"],
  ['src/shared/protocol.ts', "import type { ModelConfig } from '../engine/config';"],
  ['src/shared/experiment/spec.ts', "import { RANGES } from '../../engine/config';\nimport { infoOf } from '../../engine/models/catalog';"],
  ['src/extension/presets.ts', "import { lstmInfo } from '../engine/models/lstm/info';\nimport { parameterCount } from '../engine/memory';"],
  ['src/shared/panels/lossData.ts', "import type { TrainConfig } from '../../engine/config';\nimport { x } from '../protocol';"],
  ['src/worker/trainerMain.ts', "import { Trainer } from '../engine/trainer';\nimport type { X } from '../shared/protocol';"],
  ['src/cli/commands/report.ts', "import { traceMessage } from '../../shared/panels/hiddenStatesData';\nimport { decodeCheckpoint } from '../../engine';"],
  ['src/extension/training.ts', "import type { ModelConfig } from '../engine/config';\nimport * as vscode from 'vscode';\nimport { WorkerClient } from '../shared/workerClient';"],
  ['webview/loss/main.ts', "import type { LossHostMessage } from '../../src/shared/webviewProtocol';\nimport { Chart } from 'chart.js';\nimport { smooth } from './series';"],
  ['bench/bench.ts', "import { Trainer } from '../src/engine';\nimport { WorkerClient } from '../src/shared/workerClient';"],
  ['test/unit/anything.test.ts', "import { presets } from '../../src/extension/presets';\nimport { Trainer } from '../../src/engine';"],
];

describe('lint: import direction (DESIGN §3)', () => {
  for (const [file, code, says] of FORBIDDEN) {
    it(`forbids in ${file}: ${code.split('\n')[0]}`, async () => {
      const found = await violations(file, code);
      assert.equal(found.length, 1, `expected one violation, got ${JSON.stringify(found)}`);
      assert.match(found[0]!, says);
    });
  }
  for (const [file, code] of ALLOWED) {
    it(`allows in ${file}: ${code.split('\n').join(' ')}`, async () => {
      assert.deepEqual(await violations(file, code), []);
    });
  }
  it('npm run lint applies the boundary rule to every layer', async () => {
    const eslint = new ESLint({ cwd: ROOT });
    for (const file of ['src/engine/x.ts', 'src/shared/x.ts', 'src/worker/x.ts', 'src/cli/x.ts', 'src/extension/x.ts', 'webview/loss/x.ts', 'bench/x.ts']) {
      const config = (await eslint.calculateConfigForFile(path.join(ROOT, file))) as Linter.Config;
      const setting = config.rules?.[RULE] as [unknown, { patterns: unknown[] }] | undefined;
      assert.ok(setting && setting[1].patterns.length > 0, `${file} gets ${RULE}`);
    }
  });
});
