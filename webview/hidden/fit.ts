/**
 * How big the cells of the heatmap and the attention grid are for the width
 * the page has: the side bar's narrow page keeps small cells (and scrolls
 * sideways), a wide editor panel gets larger ones, and a short text grows its
 * cells to fill the width. Pure.
 */

/** Page widths (CSS pixels) from which the wide layout applies; media/hidden.css uses the same. */
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

export function fitCells(width: number, T: number): CellSizes {
  const wide = width >= WIDE_PX;
  const base = wide ? 14 : 10;
  const fill = T > 0 ? Math.floor((width - GUTTER_PX) / T) : base;
  const cellW = Math.max(base, Math.min(wide ? 24 : 16, fill));
  return {
    cellW,
    rowH: Math.min(16, Math.max(wide ? 11 : 8, Math.round(cellW * 0.75))),
    attRowH: Math.min(22, Math.max(wide ? 16 : 12, Math.round(cellW * 1.1))),
    font: Math.min(15, Math.max(11, Math.round(cellW * 0.85))),
  };
}
