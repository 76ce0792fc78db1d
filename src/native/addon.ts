import { createRequire } from 'node:module';
import { WeftError } from '../errors/index.ts';

/** Code of the failure to load the addon (not built, or built for another platform). */
export const ERR_NATIVE_ADDON = 'WEFT_ERR_NATIVE_ADDON';

/** What native/src/weft_native.h exports, as JavaScript sees it. */
export interface NativeAddon {
  /** SO_ORIGINAL_DST / IP6T_SO_ORIGINAL_DST of a socket descriptor; throws with the errno name as `code`. */
  getOriginalDst(fd: number): { address: string; port: number; family: number };
  /** Unmaps this process's read-only, copy-free file mappings, then malloc_trim(0), on the thread pool (native/src/release_pages.c). */
  releaseUnusedPages(): Promise<{ mappings: number; fileBytes: number }>;
}

// Built by `npm ci` (package.json "install" → native/build.mjs). Loaded lazily, on
// first use, so that importing an area that may need it works before it is built.
// The path is relative to this file; the platform's stripped copies of the proxy
// link native/ beside src/ for it (src/platform/local/proxy-build.ts).
const ADDON_PATH = '../../native/build/Release/weft_native.node';
let addon: NativeAddon | undefined;

/**
 * weft's native addon (`native/`), loaded once. Throws a WeftError with code
 * {@link ERR_NATIVE_ADDON} that says how to build it when it cannot be loaded.
 */
export function nativeAddon(): NativeAddon {
  if (addon !== undefined) return addon;
  try {
    addon = createRequire(import.meta.url)(ADDON_PATH) as NativeAddon;
    return addon;
  } catch (err) {
    throw new WeftError(ERR_NATIVE_ADDON,
      'Build the native addon with "npm run build:native" (needs build-essential and python3): native/build/Release/weft_native.node cannot be loaded',
      { cause: err });
  }
}
