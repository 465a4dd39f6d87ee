import { z } from 'zod';

export interface ZodDtoClass<S extends z.ZodType = z.ZodType> {
  new (): z.output<S>;
  readonly schema: S;
  readonly io: 'input' | 'output';
}

/** Class name -> schema of every DTO that OpenAPI generation has met (see openapi.ts). */
export const documentedDtos = new Map<string, ZodDtoClass>();

/**
 * A class standing for a zod schema of @portcullis/api, so Nest can see it in parameter metadata:
 * `export class CreateConnectionDto extends zodDto(CreateConnection) {}`. ZodValidationPipe parses
 * request bodies and queries with `schema`; openapi.ts turns it into the OpenAPI component.
 * `io: 'output'` for response bodies (fields with defaults are then required).
 */
export function zodDto<S extends z.ZodType>(schema: S, io: 'input' | 'output' = 'input'): ZodDtoClass<S> {
  class ZodDto {
    static readonly schema = schema;
    static readonly io = io;
    // @nestjs/swagger calls this on every model class it documents, with `this` the DTO subclass:
    // the hook where we learn the class name; openapi.ts then puts the zod JSON schema in its place.
    // The flat properties returned here are what swagger lists as parameters of a @Query() DTO.
    static _OPENAPI_METADATA_FACTORY(this: ZodDtoClass): Record<string, unknown> {
      documentedDtos.set(this.name, this);
      return flatProperties(schema);
    }
  }
  return ZodDto as unknown as ZodDtoClass<S>;
}

export function isZodDto(type: unknown): type is ZodDtoClass {
  return typeof type === 'function' && 'schema' in type && typeof (type as ZodDtoClass).schema?.safeParse === 'function';
}

/** Top-level scalar properties as swagger property metadata; none for anything nested. */
function flatProperties(schema: z.ZodType): Record<string, unknown> {
  let json: { properties?: Record<string, { type?: unknown }>; required?: string[] };
  try {
    json = z.toJSONSchema(schema, { target: 'openapi-3.0', io: 'input', unrepresentable: 'any' }) as typeof json;
  } catch {
    return {};
  }
  const properties = Object.entries(json.properties ?? {});
  if (!properties.every(([, p]) => ['string', 'number', 'integer', 'boolean'].includes(p.type as string))) return {};
  return Object.fromEntries(properties.map(([name, p]) => [name, { ...p, required: json.required?.includes(name) ?? false }]));
}
