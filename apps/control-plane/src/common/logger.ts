import type { LoggerService } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import { pino, type Logger } from 'pino';

/**
 * JSON lines on stdout. Request bodies and headers are never logged: credentials travel in both.
 * The redaction is a second line of defence for objects passed in by mistake.
 */
export function createLogger(level: string): Logger {
  return pino({
    level,
    base: { service: 'control-plane' },
    redact: {
      paths: ['req.headers', 'req.body', 'headers.authorization', '*.authorization', '*.password', '*.credential', '*.token'],
      censor: '[redacted]',
    },
  });
}

/** Nest's own messages (module init, route mapping, errors) on the same pino logger. */
export class NestPinoLogger implements LoggerService {
  constructor(private readonly pinoLog: Logger) {}

  log(message: unknown, context?: string): void {
    this.pinoLog.info({ context }, String(message));
  }
  error(message: unknown, trace?: string, context?: string): void {
    this.pinoLog.error({ context, trace }, String(message));
  }
  warn(message: unknown, context?: string): void {
    this.pinoLog.warn({ context }, String(message));
  }
  debug(message: unknown, context?: string): void {
    this.pinoLog.debug({ context }, String(message));
  }
  verbose(message: unknown, context?: string): void {
    this.pinoLog.trace({ context }, String(message));
  }
}

/** One line per request: method, path without the query string, status, duration, caller. */
export function requestLogger(log: Logger) {
  return (req: Request, res: Response, next: NextFunction): void => {
    const started = process.hrtime.bigint();
    res.on('finish', () => {
      log.info(
        {
          method: req.method,
          path: req.originalUrl.split('?')[0],
          status: res.statusCode,
          ms: Number(process.hrtime.bigint() - started) / 1e6,
          subject: (req as Request & { user?: { subject: string } }).user?.subject,
        },
        'request',
      );
    });
    next();
  };
}
