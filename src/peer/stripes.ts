/**
 * @file stripes.ts
 * @brief Stripe arithmetic: chunk `seq` travels in stripe `seq mod K`.
 */

/**
 * @brief First sequence >= from that belongs to stripe s of K.
 * @param from Lower bound. @param s Stripe. @param K Stripes.
 */
export function nextInStripe(from: number, s: number, K: number): number {
  const r = ((from % K) + K) % K;
  return from + ((s - r + K) % K);
}
