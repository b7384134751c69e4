import { config } from 'zod/mini';
import { en } from 'zod/v4/locales';

/**
 * zod's English messages for zod/mini. Classic zod (`import { z } from 'zod'`) bundles every locale
 * (~445 KB minified); mini tree-shakes to ~12 KB but loads no locale, so its default messages would
 * all be "Invalid input". Every module that declares schemas imports `* as z from 'zod/mini'` (a
 * namespace import, which esbuild tree-shakes; mini's `z` object is not) and this module once.
 */
config(en());
