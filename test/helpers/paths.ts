import { fileURLToPath } from 'node:url';

/** An absolute path in the repository, so a test reads the same file wherever it sits under test/. */
export function repoPath(...parts: string[]): string {
  return fileURLToPath(new URL(`../../${parts.join('/')}`, import.meta.url));
}
