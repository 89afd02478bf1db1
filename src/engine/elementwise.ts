import type { Floats } from './floats';

/**
 * The row-wise operations of the Kernels interface in TypeScript, for plain
 * arrays of either precision: the reference the wasm versions (gemm.as)
 * match, element for element and in the same order.
 */
export const elementwise = {
  addRows(a: Floats, bias: Floats, rows: number, cols: number): void {
    for (let r = 0; r < rows; r++) {
      const o = r * cols;
      for (let j = 0; j < cols; j++) a[o + j] += bias[j]!;
    }
  },

  gatherRows(out: Floats, table: Floats, idx: Int32Array, bias: Floats, rows: number, cols: number): void {
    for (let r = 0; r < rows; r++) {
      const o = r * cols;
      const src = idx[r]! * cols;
      for (let j = 0; j < cols; j++) out[o + j] = table[src + j]! + bias[j]!;
    }
  },

  gatherCols(out: Floats, w: Floats, wOff: number, V: number, idx: Int32Array, bias: Floats, rows: number, cols: number): void {
    for (let r = 0; r < rows; r++) {
      const o = r * cols;
      const col = wOff + idx[r]!;
      for (let j = 0; j < cols; j++) out[o + j] = w[col + j * V]! + bias[j]!;
    }
  },

  scatterAddRows(table: Floats, idx: Int32Array, a: Floats, rows: number, cols: number): void {
    for (let r = 0; r < rows; r++) {
      const src = r * cols;
      const o = idx[r]! * cols;
      for (let j = 0; j < cols; j++) table[o + j] += a[src + j]!;
    }
  },

  scatterAddCols(w: Floats, wOff: number, V: number, idx: Int32Array, a: Floats, rows: number, cols: number): void {
    for (let r = 0; r < rows; r++) {
      const col = wOff + idx[r]!;
      const o = r * cols;
      for (let j = 0; j < cols; j++) w[col + j * V] += a[o + j]!;
    }
  },

  addColSums(out: Floats, off: number, a: Floats, rows: number, cols: number, off2: number): void {
    for (let r = 0; r < rows; r++) {
      const o = r * cols;
      for (let j = 0; j < cols; j++) out[off + j] += a[o + j]!;
    }
    if (off2 >= 0) elementwise.addColSums(out, off2, a, rows, cols, -1);
  },

  colSums(out: Floats, a: Floats, rows: number, cols: number): void {
    out.fill(0, 0, cols);
    for (let r = 0; r < rows; r++) {
      const o = r * cols;
      for (let j = 0; j < cols; j++) out[j] += a[o + j]!;
    }
  },

  softmaxXent(probs: Floats, bias: Floats, targets: Int32Array, rows: number, V: number, scored: Int32Array): number {
    let loss = 0;
    let n = 0;
    for (let r = 0; r < rows; r++) {
      const o = r * V;
      let max = -Infinity;
      for (let v = 0; v < V; v++) {
        const z = (probs[o + v] += bias[v]!);
        if (z > max) max = z;
      }
      let sum = 0;
      for (let v = 0; v < V; v++) sum += Math.exp(probs[o + v]! - max);
      const target = targets[r]!;
      if (target >= 0) {
        // log-sum-exp form: exact even where the target's probability underflows.
        loss += Math.log(sum) + max - probs[o + target]!;
        n++;
      }
      const inv = 1 / sum;
      for (let v = 0; v < V; v++) probs[o + v] = Math.exp(probs[o + v]! - max) * inv;
    }
    scored[0] = n;
    return loss;
  },

  xentGrad(probs: Floats, targets: Int32Array, rows: number, V: number, scale: number): void {
    for (let r = 0; r < rows; r++) {
      const o = r * V;
      const target = targets[r]!;
      if (target < 0) {
        probs.fill(0, o, o + V);
        continue;
      }
      for (let v = 0; v < V; v++) probs[o + v] *= scale;
      probs[o + target] -= scale;
    }
  },
};
