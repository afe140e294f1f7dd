import pino from 'pino';

export type Logger = pino.Logger;

/** JSON lines on stdout; `silent` for tests. */
export function createLogger(level: string): Logger {
  return pino({ level, base: { service: 'berth' }, timestamp: pino.stdTimeFunctions.isoTime });
}
