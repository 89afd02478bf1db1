// `npm run test:e2e`: packages the .vsix once, runs each UI test file (*.e2e.ts
// here, or the files named on the command line) in its own process, one after
// another (each starts its own code-server and browser), and prints one closing
// line "e2e: N passed, M failed". Exits non-zero when anything failed, a file
// crashed before reporting, or nothing ran.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { log, packageVsix } from './harness';

async function main(): Promise<number> {
  const named = process.argv.slice(2);
  const files = named.length > 0
    ? named.map((f) => path.resolve(f))
    : readdirSync(__dirname).filter((f) => f.endsWith('.e2e.ts')).sort().map((f) => path.join(__dirname, f));
  const vsix = packageVsix();
  log(`packaged ${path.relative(process.cwd(), vsix)}; running ${files.map((f) => path.basename(f)).join(', ')}`);
  const tmp = mkdtempSync(path.join(tmpdir(), 'rnn-lab-e2e-'));
  let passed = 0, failed = 0;
  try {
    for (const [i, file] of files.entries()) {
      const summary = path.join(tmp, `${i}.json`);
      const started = Date.now();
      const code = await new Promise<number>((resolve) => {
        const child = spawn(process.execPath, ['--import', 'tsx', file], {
          stdio: 'inherit',
          env: { ...process.env, RNN_LAB_E2E_VSIX: vsix, RNN_LAB_E2E_SUMMARY: summary },
        });
        child.on('exit', (c, signal) => resolve(c ?? (signal ? 1 : 0)));
        child.on('error', () => resolve(1));
      });
      const result = existsSync(summary) ? (JSON.parse(readFileSync(summary, 'utf8')) as { passed: number; failed: number }) : null;
      if (result) {
        passed += result.passed;
        failed += result.failed;
      }
      if (!result || (code !== 0 && result.failed === 0)) {
        failed++;
        log(`${path.basename(file)} exited with code ${code} without reporting its scenarios: counted as one failure`);
      }
      log(`${path.basename(file)} took ${((Date.now() - started) / 1000).toFixed(1)} s`);
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  console.log(`e2e: ${passed} passed, ${failed} failed`);
  return failed === 0 && passed > 0 ? 0 : 1;
}

main().then((code) => process.exit(code), (e) => {
  console.error(e);
  console.log('e2e: 0 passed, 1 failed');
  process.exit(1);
});
