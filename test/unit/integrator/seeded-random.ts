/** mulberry32: a small seeded PRNG so property tests replay the same arrival patterns. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * The largest number of grants in any window [a, b] minus what a bucket of `capacity` refilled at
 * `perSecond` allows there (`capacity + perSecond × (b − a + slackMs)`): ≤ 0 means within limits.
 */
export function worstWindowExcess(
  grantTimesMs: number[],
  capacity: number,
  perSecond: number,
  slackMs = 0,
): number {
  const times = [...grantTimesMs].sort((x, y) => x - y);
  let worst = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < times.length; i++) {
    const start = times[i] ?? 0;
    for (let j = i; j < times.length; j++) {
      const end = times[j] ?? 0;
      const allowed = capacity + (perSecond * (end - start + slackMs)) / 1000;
      worst = Math.max(worst, j - i + 1 - allowed);
    }
  }
  return worst;
}
