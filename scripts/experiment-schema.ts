/**
 * Writes media/schemas/rnnlab.schema.json, the experiment file's schema that
 * VS Code reads through jsonValidation, from the settings table the CLI
 * checks with (src/shared/experiment/schema.ts). `--check` fails instead of
 * writing when the shipped copy is out of date.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';

import { buildExperimentSchema } from '../src/shared/experiment/schema';

export const SCHEMA_FILE = path.join(__dirname, '..', 'media', 'schemas', 'rnnlab.schema.json');

export function schemaText(): string {
  return JSON.stringify(buildExperimentSchema(), null, 2) + '\n';
}

if (require.main === module) {
  const text = schemaText();
  if (process.argv.includes('--check')) {
    let current = '';
    try {
      current = readFileSync(SCHEMA_FILE, 'utf8');
    } catch {
      // Missing counts as out of date.
    }
    if (current !== text) {
      process.stderr.write(`${SCHEMA_FILE} is out of date: run npm run schema:experiment\n`);
      process.exit(1);
    }
  } else {
    writeFileSync(SCHEMA_FILE, text);
    process.stdout.write(`wrote ${SCHEMA_FILE}\n`);
  }
}
