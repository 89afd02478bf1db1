// The hidden-states page's cell sizes for the width it has (webview/hidden/fit.ts).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fitCells, MEDIUM_PX, WIDE_PX } from '../../webview/hidden/fit';

const GUTTER = 70;

test('a text that fits at 10 px columns is shown whole, its columns filling the width up to the layout\'s largest', () => {
  for (const width of [300, 600, 1200]) {
    for (const T of [5, 20, 45, 97]) {
      const { cellW } = fitCells(width, T);
      if (T * 10 > width - GUTTER) continue;
      assert.ok(T * cellW <= width - GUTTER, `${T} columns of ${cellW} px in ${width} px`);
      const max = width >= WIDE_PX ? 24 : width >= MEDIUM_PX ? 20 : 16;
      assert.ok(cellW === max || T * (cellW + 1) > width - GUTTER, `${width} px, ${T} characters: ${cellW} px leaves room for more`);
    }
  }
});

test('a longer text scrolls at 10 px in the side bar, 12 px at medium widths, 14 px in a wide editor', () => {
  assert.equal(fitCells(300, 500).cellW, 10);
  assert.equal(fitCells(MEDIUM_PX, 500).cellW, 12);
  assert.equal(fitCells(700, 500).cellW, 12);
  assert.equal(fitCells(WIDE_PX, 500).cellW, 14);
  assert.equal(fitCells(1800, 500).cellW, 14);
});

test('rows, attention rows and the characters\' font grow with the layout, within bounds', () => {
  const [n, m, w] = [fitCells(300, 500), fitCells(600, 500), fitCells(1200, 500)];
  assert.ok(n.rowH < m.rowH && m.rowH < w.rowH, `${n.rowH} < ${m.rowH} < ${w.rowH}`);
  assert.ok(n.attRowH < m.attRowH && m.attRowH < w.attRowH);
  assert.ok(n.font <= m.font && m.font <= w.font);
  for (const width of [0, 200, 300, 479, 480, 799, 800, 3000]) {
    for (const T of [0, 1, 10, 100, 2000]) {
      const s = fitCells(width, T);
      assert.ok(s.cellW >= 10 && s.cellW <= 24 && s.rowH >= 8 && s.rowH <= 16 && s.attRowH >= 12 && s.attRowH <= 22 && s.font >= 11 && s.font <= 15, `${width} px, ${T}: ${JSON.stringify(s)}`);
    }
  }
});
