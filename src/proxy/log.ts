/**
 * The proxy's structured logger: one JSON object per line on stderr.
 *
 * Hand-written rather than pino: the proxy logs state changes and per-connection
 * decisions at debug, never per request at the default level, so throughput of the
 * logger does not matter; forty lines spare a dependency and its worker thread
 * (pino's transports) in a process that must stay small (RSS is a goal).
 */

/** Log levels, most verbose first. */
export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'off'] as const;
/** One of `LOG_LEVELS`. */
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Fields attached to every line of a logger (for example `{conn: 12}`). */
export type LogFields = Record<string, string | number | boolean | undefined>;

/** Where lines go; tests pass an array-backed sink. */
export type LogSink = (line: string) => void;

/** A structured logger; `child()` adds fields for a connection or a stage. */
export class Logger {
  readonly #threshold: number;
  readonly #fields: LogFields;
  readonly #sink: LogSink;

  constructor(level: LogLevel = 'info', options: { fields?: LogFields; sink?: LogSink } = {}) {
    this.#threshold = LOG_LEVELS.indexOf(level);
    this.#fields = options.fields ?? {};
    this.#sink = options.sink ?? ((line) => process.stderr.write(line));
  }

  /** A logger with the same level and sink and extra `fields` on every line. */
  child(fields: LogFields): Logger {
    return new Logger(LOG_LEVELS[this.#threshold], { fields: { ...this.#fields, ...fields }, sink: this.#sink });
  }

  /** True when `level` would be written; guard costly debug fields with it. */
  enabled(level: LogLevel): boolean {
    return LOG_LEVELS.indexOf(level) >= this.#threshold;
  }

  /** Per-connection detail. */
  debug(msg: string, fields?: LogFields): void { this.#log(1, msg, fields); }
  /** State changes, with reason. */
  info(msg: string, fields?: LogFields): void { this.#log(2, msg, fields); }
  /** Something failed that the proxy works around. */
  warn(msg: string, fields?: LogFields): void { this.#log(3, msg, fields); }
  /** Something failed that an operator must look at. */
  error(msg: string, fields?: LogFields): void { this.#log(4, msg, fields); }

  #log(level: number, msg: string, fields: LogFields | undefined): void {
    if (level < this.#threshold) return;
    const line = { time: new Date().toISOString(), level: LOG_LEVELS[level], msg, ...this.#fields, ...fields };
    this.#sink(`${JSON.stringify(line)}\n`);
  }
}

/** A logger that writes nothing (library default). */
export const silentLogger = new Logger('off');
