/**
 * Whether RNN Lab completes a file, and why not: the switches that decide it,
 * as pure functions (no `vscode`), so the status-bar item, the quick pick
 * and the provider agree and a unit test can reach every case.
 */

/** The switches that decide whether a document of one language gets completions. */
export interface CompletionSwitches {
  /** The document's language id. */
  language: string;
  /** `editor.inlineSuggest.enabled` for the document's language: VS Code shows no inline suggestion without it. */
  inlineSuggest: boolean;
  /** `rnnLab.completions.enabled` without a language override ("everywhere"). */
  everywhere: boolean;
  /** `rnnLab.completions.enabled` for this language: its `[language]` override, else `everywhere`. */
  forLanguage: boolean;
  /** `rnnLab.completions.languages`. */
  languages: readonly string[];
}

/** Whether the language is one `rnnLab.completions.languages` lists (`*`: every language). */
export function languageListed(s: Pick<CompletionSwitches, 'language' | 'languages'>): boolean {
  return s.languages.includes('*') || s.languages.includes(s.language);
}

/** Null when completions are on for the document, else the one-line reason they are off. */
export function completionsOffReason(s: CompletionSwitches): string | null {
  if (!s.inlineSuggest) return "VS Code's inline suggestions are off (editor.inlineSuggest.enabled)";
  if (!s.everywhere && !s.forLanguage) return 'RNN Lab completions are off everywhere (rnnLab.completions.enabled)';
  if (!s.forLanguage) return `RNN Lab completions are off for ${s.language}`;
  if (!languageListed(s)) return `${s.language} is not in rnnLab.completions.languages`;
  return null;
}

/** The settings changes that turn completions on (or off) for the document's language; `undefined` removes an override. */
export interface LanguageToggle {
  /** The `[language]` override of rnnLab.completions.enabled. */
  override: boolean | undefined;
  /** rnnLab.completions.languages, when it must change. */
  languages?: string[];
}

export function toggleForLanguage(s: CompletionSwitches, on: boolean): LanguageToggle {
  if (!on) return { override: false };
  // On: an override only where "everywhere" is off; the language joins the list when the list leaves it out.
  const listed = languageListed(s);
  return { override: s.everywhere ? undefined : true, ...(listed ? {} : { languages: [...s.languages, s.language] }) };
}
