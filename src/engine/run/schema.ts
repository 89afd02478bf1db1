import type { SettingSpec } from './settings';

/** The JSON-schema entry of a setting, as package.json's contributes.configuration declares it. */
export function settingSchema(spec: SettingSpec): Record<string, unknown> {
  const out: Record<string, unknown> = { type: spec.type === 'choice' ? 'string' : spec.type };
  if (spec.choices) out.enum = [...spec.choices];
  out.default = spec.default;
  out.markdownDescription = spec.description;
  const r = spec.range;
  if (r) {
    out[r.exclusiveMin ? 'exclusiveMinimum' : 'minimum'] = r.min;
    out[r.exclusiveMax ? 'exclusiveMaximum' : 'maximum'] = r.max;
  }
  if (spec.restricted) out.tags = ['restricted'];
  return out;
}
