import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import express, { type NextFunction, type Request, type Response } from 'express';
import path from 'node:path';
import { AppModule } from './app.module.js';
import { ApiExceptionFilter } from './common/api-exception.filter.js';
import { createLogger, NestPinoLogger, requestLogger } from './common/logger.js';
import { setupOpenApi } from './common/openapi.js';
import { ZodValidationPipe } from './common/zod-validation.pipe.js';
import { AppConfig } from './config/app-config.js';
import { migrate } from './db/migrate.js';

const config = new AppConfig();
const log = createLogger(config.logLevel);

try {
  await migrate(config.databaseUrl, { migrationsDir: config.migrationsDir, log: (line) => log.info(line) });

  const app = await NestFactory.create<NestExpressApplication>(AppModule.register(config), {
    logger: new NestPinoLogger(log),
    bodyParser: false,
  });
  app.use(requestLogger(log));
  // Our own JSON parser, so a malformed body gets the ApiError shape and never echoes the body.
  app.use(express.json({ limit: '1mb' }));
  app.use((error: { status?: number; type?: string }, _req: Request, res: Response, next: NextFunction) => {
    if (!error.type?.startsWith('entity.')) return next(error);
    const statusCode = error.status ?? 400;
    res.status(statusCode).json({
      statusCode,
      error: statusCode === 413 ? 'Payload Too Large' : 'Bad Request',
      message: statusCode === 413 ? 'request body is too large' : 'request body is not valid JSON',
    });
  });
  app.setGlobalPrefix('api/v1', { exclude: ['healthz', 'readyz', 'console-config.json'] });
  if (config.consoleDir) serveConsole(app, config.consoleDir);
  app.useGlobalPipes(new ZodValidationPipe());
  app.useGlobalFilters(new ApiExceptionFilter(log));
  setupOpenApi(app);

  await app.listen(config.port, config.host);
  const address = app.getHttpServer().address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  log.info(`control plane listening on http://${config.host}:${port}`);

  // Graceful stop: stop accepting, let module hooks close streams, Redis and the pool, exit 0.
  const stop = (signal: NodeJS.Signals) => {
    log.info(`${signal}: shutting down`);
    setTimeout(() => process.exit(1), 10_000).unref();
    app.close().then(
      () => {
        log.info('control plane stopped');
        process.exit(0);
      },
      (error: unknown) => {
        log.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
} catch (error) {
  log.fatal({ err: error }, 'control plane failed to start');
  process.exitCode = 1;
  // Give pino a moment to flush, then leave even if a client keeps the event loop alive.
  setTimeout(() => process.exit(1), 100).unref();
}

/** The built console at /, with its client-side routes falling back to index.html. */
function serveConsole(app: NestExpressApplication, dir: string): void {
  app.useStaticAssets(dir, { index: 'index.html' });
  const index = path.resolve(dir, 'index.html');
  app.use((req: Request, res: Response, next: NextFunction) => {
    const apiPath = /^\/(api|healthz|readyz|console-config\.json)(\/|$)/.test(req.path);
    if (req.method !== 'GET' || apiPath || !req.accepts('html')) return next();
    res.sendFile(index);
  });
}
