/**
 * @file fairness.ts
 * @brief Pure statistics for load balance: Jain's fairness index and percentiles.
 *
 * Used by the simulator (sim/) and by anything that reports how evenly bytes are sent
 * (DESIGN.md goal: Jain >= 0.98 and max/mean <= 1.2 over peers with equal slots).
 */

/**
 * @brief Jain's fairness index J = (sum x)^2 / (n * sum x^2).
 *
 * 1 when all values are equal, 1/n when one value holds everything.
 * @param values Non-negative amounts (e.g. bytes sent per peer).
 * @return J in [1/n, 1]; 1 for an empty list or all zeros (nothing to be unfair about).
 */
export function jain(values: readonly number[]): number {
  let sum = 0;
  let sumSq = 0;
  for (const v of values) {
    sum += v;
    sumSq += v * v;
  }
  if (values.length === 0 || sumSq === 0) return 1;
  return (sum * sum) / (values.length * sumSq);
}

/**
 * @brief Percentile by the nearest-rank method (the smallest value with at least p% at or below it).
 * @param values Samples, in any order (not modified).
 * @param p Percentile in [0, 100]; 0 gives the minimum, 100 the maximum.
 * @return The percentile, or NaN for an empty list.
 */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const clamped = Math.min(100, Math.max(0, p));
  const rank = Math.max(1, Math.ceil((clamped / 100) * sorted.length));
  return sorted[rank - 1];
}

/**
 * @brief Ratio of the largest value to the mean (1 = perfectly even).
 * @param values Non-negative amounts.
 * @return max/mean, or 1 for an empty list or all zeros.
 */
export function maxOverMean(values: readonly number[]): number {
  let sum = 0;
  let max = 0;
  for (const v of values) {
    sum += v;
    if (v > max) max = v;
  }
  return sum === 0 ? 1 : max / (sum / values.length);
}
