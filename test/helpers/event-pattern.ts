/**
 * Whether an EventBridge event pattern matches an event, for the patterns this stack writes: nested
 * objects whose leaves are arrays of exact values (EventBridge user guide, "Event patterns": a leaf
 * matches when the event's value is one of them, or, for an array in the event, when the two share a
 * value). moto does not implement TestEventPattern, hence this. Any other filter (prefix, numeric,
 * exists, anything-but, ...) throws: a pattern that uses one needs this helper extended first, not a
 * silently wrong answer.
 */
export function matchesPattern(pattern: unknown, event: unknown): boolean {
  if (pattern === null || typeof pattern !== 'object' || Array.isArray(pattern)) {
    throw new Error(`an event pattern is an object of fields (got ${JSON.stringify(pattern)})`);
  }
  return Object.entries(pattern).every(([field, expected]) => {
    const actual = event !== null && typeof event === 'object' ? (event as Record<string, unknown>)[field] : undefined;
    if (Array.isArray(expected)) {
      for (const value of expected) {
        if (value !== null && typeof value === 'object') {
          throw new Error(`matchesPattern handles exact values only; ${field} uses the filter ${JSON.stringify(value)}`);
        }
      }
      const values: unknown[] = Array.isArray(actual) ? actual : [actual];
      return values.some((value) => expected.includes(value));
    }
    return matchesPattern(expected, actual);
  });
}
