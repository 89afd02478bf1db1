/**
 * How big the cells of the heatmap and the attention grid are for the width
 * the page has: a text that fits gets cells that fill the width (up to a
 * size per layout); a longer one scrolls sideways, at small cells in the
 * side bar's narrow page and larger ones in a wide editor panel. Pure.
 */

/** Page widths (CSS pixels) from which the medium and the wide layout apply; media/hidden.css uses the same lines. */
export const MEDIUM_PX = 480;
export const WIDE_PX = 800;

/** The widest row label (the attention grid's), so both grids fit beside their gutters. */
const GUTTER_PX = 70;

export interface CellSizes {
  /** Width of one character's column, in both grids. */
  cellW: number;
  /** Height of one neuron's row in the heatmap. */
  rowH: number;
  /** Height of one head's row in the attention grid. */
  attRowH: number;
  /** Pixel size of the characters drawn above the grids. */
  font: number;
}

/** Per layout: the smallest cell (what a long text scrolls at), the largest a short text grows to, the smallest rows. */
const TIERS = {
  narrow: { base: 10, max: 16, rowH: 8, attRowH: 12 },
  medium: { base: 12, max: 20, rowH: 10, attRowH: 14 },
  wide: { base: 14, max: 24, rowH: 11, attRowH: 16 },
};

export function fitCells(width: number, T: number): CellSizes {
  const tier = width >= WIDE_PX ? TIERS.wide : width >= MEDIUM_PX ? TIERS.medium : TIERS.narrow;
  const fill = T > 0 ? Math.floor((width - GUTTER_PX) / T) : tier.base;
  // The whole text in view when it fits at the smallest cells; else it scrolls, at the layout's cells.
  const cellW = fill >= TIERS.narrow.base ? Math.min(tier.max, fill) : tier.base;
  return {
    cellW,
    rowH: Math.min(16, Math.max(tier.rowH, Math.round(cellW * 0.75))),
    attRowH: Math.min(22, Math.max(tier.attRowH, Math.round(cellW * 1.1))),
    font: Math.min(15, Math.max(11, Math.round(cellW * 0.85))),
  };
}
