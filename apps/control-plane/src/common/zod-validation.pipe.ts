import { BadRequestException, Injectable, type ArgumentMetadata, type PipeTransform } from '@nestjs/common';
import type { z } from 'zod';
import { isZodDto } from './zod-dto.js';

export interface Issue {
  path: string;
  message: string;
}

/**
 * Global validation: a body or query typed with a zodDto class is parsed with its schema (defaults
 * applied, unknown keys refused by strict schemas); anything else passes through untouched.
 */
@Injectable()
export class ZodValidationPipe implements PipeTransform {
  transform(value: unknown, metadata: ArgumentMetadata): unknown {
    if (metadata.type !== 'body' && metadata.type !== 'query') return value;
    if (!isZodDto(metadata.metatype)) return value;
    const result = metadata.metatype.schema.safeParse(value ?? {});
    if (result.success) return result.data;
    throw new BadRequestException(validationBody(result.error));
  }
}

/** The ApiError body for a failed parse: `message` names each field, e.g. `kind: Invalid option: ...`. */
export function validationBody(error: z.ZodError): { message: string; issues: Issue[] } {
  const issues = error.issues.map((issue) => ({ path: issue.path.map(String).join('.'), message: issue.message }));
  return {
    message: issues.map((i) => (i.path ? `${i.path}: ${i.message}` : i.message)).join('; '),
    issues,
  };
}
