/** Sizes a canvas to w×h CSS pixels at the device pixel ratio and returns its context, drawing in CSS pixels. */
export function sizeCanvas(c: HTMLCanvasElement, w: number, h: number, dpr: number): CanvasRenderingContext2D {
  c.style.width = `${w}px`;
  c.style.height = `${h}px`;
  c.width = Math.max(1, Math.round(w * dpr));
  c.height = Math.max(1, Math.round(h * dpr));
  const ctx = c.getContext('2d')!;
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  return ctx;
}
