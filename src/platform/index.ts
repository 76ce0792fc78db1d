/**
 * The platforms weft runs on. Only the embedded one exists so far; this door exists
 * because the lint rule admits one folder level (`../<area>/index.ts`) per area.
 */
export * from './local/index.ts';
