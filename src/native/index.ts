/**
 * weft's native addon (`native/`, C over Node-API) from TypeScript: what Node's own
 * modules cannot do. One loader for every area that needs it.
 */
export { ERR_NATIVE_ADDON, nativeAddon } from './addon.ts';
export type { NativeAddon } from './addon.ts';
export { releaseUnusedPages } from './release-pages.ts';
export type { ReleasedPages } from './release-pages.ts';
