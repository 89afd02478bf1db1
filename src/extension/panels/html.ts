/**
 * The HTML every panel is given once, as a pure function (no `vscode`), so the
 * Chromium tests in test/webview serve exactly the page VS Code would show.
 *
 * CSP: nothing is allowed by default; scripts only with this page's nonce,
 * styles, images and fonts only from the webview's own resource origin
 * (`webview.cspSource`, i.e. files under dist/ and media/ through
 * `asWebviewUri`); images also as data: URLs (chart export previews).
 */
import { randomBytes } from 'node:crypto';

export interface PanelHtmlOptions {
  /** `webview.cspSource`. */
  cspSource: string;
  /** From makeNonce(): fresh per page. */
  nonce: string;
  title: string;
  /** `asWebviewUri` of the panel's bundle (dist/webview/<panel>.js). */
  scriptUri: string;
  /** `asWebviewUri` of the style sheets (media/*.css). */
  styleUris: string[];
  /** Static markup of the page body (the script fills it in). */
  body: string;
}

/** 128 random bits from `crypto`, base64: a nonce a page cannot guess. */
export function makeNonce(): string {
  return randomBytes(16).toString('base64');
}

export function contentSecurityPolicy(cspSource: string, nonce: string): string {
  return [
    "default-src 'none'",
    `script-src 'nonce-${nonce}'`,
    `style-src ${cspSource}`,
    `img-src ${cspSource} data:`,
    `font-src ${cspSource}`,
  ].join('; ');
}

export function renderPanelHtml(o: PanelHtmlOptions): string {
  const styles = o.styleUris.map((u) => `  <link rel="stylesheet" href="${escapeAttr(u)}">`).join('\n');
  return `<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="UTF-8">
  <meta http-equiv="Content-Security-Policy" content="${escapeAttr(contentSecurityPolicy(o.cspSource, o.nonce))}">
  <meta name="viewport" content="width=device-width, initial-scale=1.0">
${styles}
  <title>${escapeText(o.title)}</title>
</head>
<body>
${o.body}
  <script nonce="${escapeAttr(o.nonce)}" src="${escapeAttr(o.scriptUri)}"></script>
</body>
</html>`;
}

export function escapeText(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

export function escapeAttr(s: string): string {
  return escapeText(s).replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}
