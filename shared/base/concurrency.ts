/**
 * Maps over items with at most `limit` calls in flight, keeping the input order. Reading many users
 * one at a time would make a large scan slow; reading them all at once would only meet IAM's
 * throttling (which the SDK's adaptive retry then absorbs, at the cost of wall time).
 */
export async function mapWithConcurrency<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const index = next;
      next += 1;
      results[index] = await fn(items[index] as T, index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(Math.max(1, limit), items.length) }, worker));
  return results;
}
