/**
 * Colors and fonts from VS Code's `--vscode-*` CSS variables, which VS Code
 * sets on <html> (and updates in place when the user switches themes, also
 * changing <body>'s vscode-light / vscode-dark / vscode-high-contrast class).
 */
export type ThemeKind = 'light' | 'dark' | 'high-contrast' | 'high-contrast-light';

export interface Theme {
  kind: ThemeKind;
  foreground: string;
  muted: string;
  background: string;
  grid: string;
  border: string;
  fontFamily: string;
  fontSize: number;
  /** Series colors, from VS Code's chart palette. */
  palette: string[];
}

function cssVar(style: CSSStyleDeclaration, name: string, fallback: string): string {
  const v = style.getPropertyValue(name).trim();
  return v || fallback;
}

export function themeKind(): ThemeKind {
  const c = document.body.classList;
  if (c.contains('vscode-high-contrast-light')) return 'high-contrast-light';
  if (c.contains('vscode-high-contrast')) return 'high-contrast';
  if (c.contains('vscode-light')) return 'light';
  return 'dark';
}

export function readTheme(): Theme {
  const s = getComputedStyle(document.documentElement);
  const kind = themeKind();
  const light = kind === 'light' || kind === 'high-contrast-light';
  const foreground = cssVar(s, '--vscode-charts-foreground', cssVar(s, '--vscode-foreground', light ? '#3b3b3b' : '#cccccc'));
  return {
    kind,
    foreground,
    muted: cssVar(s, '--vscode-descriptionForeground', foreground),
    background: cssVar(s, '--vscode-editor-background', light ? '#ffffff' : '#1f1f1f'),
    grid: cssVar(s, '--vscode-charts-lines', light ? 'rgba(97,97,97,0.5)' : 'rgba(204,204,204,0.5)'),
    border: cssVar(s, '--vscode-contrastBorder', cssVar(s, '--vscode-widget-border', cssVar(s, '--vscode-panel-border', 'transparent'))),
    fontFamily: cssVar(s, '--vscode-font-family', 'system-ui, sans-serif'),
    fontSize: parseFloat(cssVar(s, '--vscode-font-size', '13px')) || 13,
    palette: [
      cssVar(s, '--vscode-charts-blue', '#3794ff'),
      cssVar(s, '--vscode-charts-orange', '#d18616'),
      cssVar(s, '--vscode-charts-green', '#89d185'),
      cssVar(s, '--vscode-charts-purple', '#b180d7'),
      cssVar(s, '--vscode-charts-red', '#f14c4c'),
      cssVar(s, '--vscode-charts-yellow', '#cca700'),
    ],
  };
}

/** Calls `onChange` (debounced to one frame) whenever VS Code switches the theme. */
export function watchTheme(onChange: (t: Theme) => void): void {
  let pending = false;
  const fire = (): void => {
    if (pending) return;
    pending = true;
    requestAnimationFrame(() => {
      pending = false;
      onChange(readTheme());
    });
  };
  new MutationObserver(fire).observe(document.documentElement, { attributes: true, attributeFilter: ['style', 'class'] });
  new MutationObserver(fire).observe(document.body, { attributes: true, attributeFilter: ['class'] });
}

/** `color` with its alpha multiplied by `alpha` (hex #rgb/#rrggbb/#rrggbbaa or rgb[a]()). */
export function withAlpha(color: string, alpha: number): string {
  const c = color.trim();
  let r: number, g: number, b: number, a = 1;
  const hex = /^#([0-9a-f]{3,8})$/i.exec(c);
  if (hex) {
    let h = hex[1]!;
    if (h.length === 3 || h.length === 4) h = [...h].map((x) => x + x).join('');
    r = parseInt(h.slice(0, 2), 16);
    g = parseInt(h.slice(2, 4), 16);
    b = parseInt(h.slice(4, 6), 16);
    if (h.length === 8) a = parseInt(h.slice(6, 8), 16) / 255;
  } else {
    const m = /^rgba?\(([^)]+)\)$/i.exec(c);
    if (!m) return c;
    const parts = m[1]!.split(/[\s,/]+/).filter(Boolean).map(Number);
    [r, g, b] = [parts[0] ?? 0, parts[1] ?? 0, parts[2] ?? 0];
    if (parts.length > 3) a = parts[3]!;
  }
  return `rgba(${r}, ${g}, ${b}, ${+(a * alpha).toFixed(3)})`;
}
