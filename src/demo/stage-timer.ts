// Wall-clock seconds per stage of a long run (the demo's and the study's summaries report them).

/** `lap(stage)` records the seconds since the previous lap (or since creation) under `stage`. */
export function stageTimer(): { seconds: Record<string, number>; lap: (stage: string) => void } {
  const seconds: Record<string, number> = {};
  let clock = performance.now();
  const lap = (stage: string) => {
    const now = performance.now();
    seconds[stage] = (now - clock) / 1000;
    clock = now;
  };
  return { seconds, lap };
}
