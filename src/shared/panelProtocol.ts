/**
 * Messages every panel's page sends (ready, error, export) and the limits the
 * host enforces on what pages send. Types and constants only: the host and
 * the webview bundles import this file.
 */

/** Webview → host: the page has loaded (or reloaded) and wants everything. */
export interface PanelReadyMessage {
  kind: 'panel/ready';
}

/** Webview → host: something went wrong in the page (e.g. a malformed message); the host logs it. */
export interface PanelErrorMessage {
  kind: 'panel/error';
  message: string;
}

/** Webview → host: save the chart as PNG (a data: URL from canvas.toDataURL) or the data as CSV. */
export interface PanelExportMessage {
  kind: 'panel/export';
  format: 'png' | 'csv';
  /** Suggested file name without folder, e.g. "loss.png". */
  fileName: string;
  /** `data:image/png;base64,...` for png, the CSV text for csv. */
  data: string;
}

/** Limits the host enforces on webview messages (and the webview respects). */
export const WEBVIEW_LIMITS = {
  /** Largest export payload accepted (PNG data URL or CSV text), in characters. */
  maxExportChars: 64 * 1024 * 1024,
  maxCompare: 16,
  maxErrorChars: 2000,
  /** Layers and units a model can have (settings allow 4 × 4096). */
  maxLayers: 8,
  maxHidden: 65536,
} as const;

/**
 * Size limits on any message from a page, checked before it is validated:
 * the largest legitimate message is an export (one string of at most
 * maxExportChars); none has more than a few hundred values.
 */
export const PAGE_MESSAGE_LIMITS = {
  maxNodes: 10_000,
  maxChars: WEBVIEW_LIMITS.maxExportChars + 4096,
  maxDepth: 8,
} as const;
