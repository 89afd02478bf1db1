/**
 * The markup the hidden-states page is given, for either host: the side
 * bar's webview view or an editor panel. Pure (no `vscode`), so the Chromium
 * tests serve exactly what the host does.
 */
import type { HiddenHandoff, HiddenPageHost } from '../../shared/hiddenStatesProtocol';
import { escapeAttr } from './html';

export function hiddenBody(host: HiddenPageHost, handoff?: HiddenHandoff): string {
  const start = handoff ? ` data-handoff="${escapeAttr(JSON.stringify(handoff))}"` : '';
  return `  <main id="app" class="panel hidden-view" data-host="${host}"${start} aria-busy="true">
    <p class="placeholder">Loading the hidden states…</p>
  </main>`;
}
