/** Counts items into equal time buckets over [from, to); items outside are ignored. */
export function bucketByTime<T>(
  items: readonly T[],
  time: (item: T) => string,
  weight: (item: T) => number,
  from: number,
  to: number,
  buckets: number,
): { start: number; value: number }[] {
  const size = (to - from) / buckets;
  const out = Array.from({ length: buckets }, (_, i) => ({ start: from + i * size, value: 0 }));
  for (const item of items) {
    const t = Date.parse(time(item));
    if (!(t >= from && t < to)) continue;
    out[Math.min(buckets - 1, Math.floor((t - from) / size))]!.value += weight(item);
  }
  return out;
}
