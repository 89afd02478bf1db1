/** What the untrusted workspace's .vscode/settings.json asks for (runTest.ts writes it, the suite checks it). */
export const UNTRUSTED_WORKSPACE_SETTINGS = {
  /** Only the user's own settings may raise these: in Restricted Mode they keep their defaults. */
  restricted: {
    'rnnLab.training.maxMemoryMB': 65536,
    'rnnLab.training.threads': 16,
    'rnnLab.completions.languages': ['*'],
    'rnnLab.completions.debounceMs': 0,
  },
  /** Not restricted: the workspace's value applies even untrusted. */
  applies: {
    'rnnLab.training.lr': 0.01,
  },
};

export function workspaceSettingsJson(): string {
  return JSON.stringify({ ...UNTRUSTED_WORKSPACE_SETTINGS.restricted, ...UNTRUSTED_WORKSPACE_SETTINGS.applies }, null, 2);
}
