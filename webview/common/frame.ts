/**
 * Redraws at most once per animation frame however many messages arrive:
 * `schedule` asks for a redraw on the next frame, `drawNow` draws at once and
 * drops one already scheduled.
 */
export function frameScheduler(draw: () => void): { schedule: () => void; drawNow: () => void } {
  let frame = 0;
  return {
    schedule: (): void => {
      if (frame) return;
      frame = requestAnimationFrame(() => {
        frame = 0;
        draw();
      });
    },
    drawNow: (): void => {
      if (frame) cancelAnimationFrame(frame);
      frame = 0;
      draw();
    },
  };
}
