/**
 * Admin stage: the :4191 HTTP server.
 */
export { createAdminServer } from './admin-server.ts';
export type { AdminHooks } from './admin-server.ts';
