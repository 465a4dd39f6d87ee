import { STATUS_CODES } from 'node:http';
import { Catch, HttpException, HttpStatus, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import type { Response } from 'express';
import type { ApiError } from '@portcullis/api';
import type { Logger } from 'pino';

/**
 * Every error leaves as the ApiError shape. Unexpected errors are logged here and answered with a
 * generic 500, so no internal detail (queries, values) reaches the client.
 */
@Catch()
export class ApiExceptionFilter implements ExceptionFilter {
  constructor(private readonly log: Logger) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const res = host.switchToHttp().getResponse<Response>();
    const body = this.toApiError(exception);
    if (!res.headersSent) res.status(body.statusCode).json(body);
  }

  private toApiError(exception: unknown): ApiError {
    if (exception instanceof HttpException) {
      const statusCode = exception.getStatus();
      const response = exception.getResponse();
      const given = typeof response === 'object' && response !== null ? (response as Partial<ApiError>) : {};
      const message = typeof response === 'string' ? response : given.message;
      return {
        statusCode,
        error: STATUS_CODES[statusCode] ?? 'Error',
        message: Array.isArray(message) ? message.join('; ') : (message ?? exception.message),
        ...(given.issues ? { issues: given.issues } : {}),
      };
    }
    this.log.error({ err: exception }, 'unhandled error');
    return {
      statusCode: HttpStatus.INTERNAL_SERVER_ERROR,
      error: 'Internal Server Error',
      message: 'internal error; see the control plane log',
    };
  }
}
