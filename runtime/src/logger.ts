/** Structured one-line JSON logs; secrets never go in here (credentials are not logged anywhere). */
export interface Logger {
  debug(message: string, meta?: Record<string, unknown>): void;
  info(message: string, meta?: Record<string, unknown>): void;
  warn(message: string, meta?: Record<string, unknown>): void;
  error(message: string, meta?: Record<string, unknown>): void;
}

const LEVELS = { debug: 10, info: 20, warn: 30, error: 40 } as const;
type Level = keyof typeof LEVELS;

export function createLogger(name: string, level: Level = (process.env.LOG_LEVEL as Level | undefined) ?? 'info'): Logger {
  const min = LEVELS[level] ?? LEVELS.info;
  const write = (at: Level) => (message: string, meta?: Record<string, unknown>) => {
    if (LEVELS[at] < min) return;
    const line = JSON.stringify({ time: new Date().toISOString(), level: at, name, message, ...meta });
    (at === 'error' || at === 'warn' ? process.stderr : process.stdout).write(`${line}\n`);
  };
  return { debug: write('debug'), info: write('info'), warn: write('warn'), error: write('error') };
}
