/**
 * Writes the rnnLab.model.* and rnnLab.training.* settings of package.json
 * from the engine's settings table (src/engine/run/settings.ts), keeping every
 * other setting as it is, and the list of restricted settings from the tags. test/unit/settings.test.ts fails when they drift:
 * run `node --import tsx scripts/sync-settings.ts` after changing the table.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';

import { settingSchema } from '../src/engine/run/schema';
import { SETTINGS, extensionSetting } from '../src/engine/run/settings';

const file = path.join(__dirname, '..', 'package.json');
const pkg = JSON.parse(readFileSync(file, 'utf8')) as {
  contributes: { configuration: { properties: Record<string, Record<string, unknown>> } };
  capabilities: { untrustedWorkspaces: { restrictedConfigurations?: string[] } };
};
const old = pkg.contributes.configuration.properties;
const props: Record<string, Record<string, unknown>> = {};
const fromTable = SETTINGS.filter((s) => s.only !== 'cli');
for (const spec of fromTable) {
  const id = extensionSetting(spec);
  const schema = settingSchema(spec);
  // Descriptions of choices are the editor's alone; they follow their value when the order changes.
  const prev = old[id];
  let kept = {};
  if (prev && Array.isArray(prev.enumDescriptions) && Array.isArray(prev.enum)) {
    const byValue = new Map((prev.enum as string[]).map((v, i) => [v, (prev.enumDescriptions as string[])[i] ?? '']));
    kept = { enumDescriptions: (schema.enum as string[]).map((v) => byValue.get(v) ?? '') };
  }
  props[id] = { ...schema, ...kept };
}
for (const [id, v] of Object.entries(old)) if (!(id in props) && !/^rnnLab\.(model|training)\./.test(id)) props[id] = v;
pkg.contributes.configuration.properties = props;
// Restricted Mode ignores a workspace's value for every setting tagged restricted (the table's and the extension's own).
pkg.capabilities.untrustedWorkspaces.restrictedConfigurations = Object.entries(props)
  .filter(([, v]) => Array.isArray(v.tags) && (v.tags as unknown[]).includes('restricted'))
  .map(([id]) => id);
writeFileSync(file, JSON.stringify(pkg, null, 2) + '\n');
