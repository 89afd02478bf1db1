/**
 * Every numeric buffer of the engine is one of these. Training runs in
 * float32; float64 exists so gradient checks can use central differences
 * without float32 rounding swamping the comparison.
 */
export type Floats = Float32Array | Float64Array;
export type DType = 'f32' | 'f64';

export function allocFloats(dtype: DType, length: number): Floats {
  return dtype === 'f64' ? new Float64Array(length) : new Float32Array(length);
}
