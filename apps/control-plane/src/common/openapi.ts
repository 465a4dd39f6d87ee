import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, SwaggerModule, type OpenAPIObject } from '@nestjs/swagger';
import { z } from 'zod';
import { ApiError } from '@portcullis/api';
import { documentedDtos } from './zod-dto.js';

/**
 * OpenAPI at /api/docs (JSON at /api/docs-json). Request and response schemas come from the zod
 * schemas of @portcullis/api, so the document cannot drift from what the API validates.
 */
export function setupOpenApi(app: INestApplication): OpenAPIObject {
  const config = new DocumentBuilder()
    .setTitle('Portcullis control plane')
    .setDescription('Connections, grants, agents and audit of the Portcullis data gateway.')
    .setVersion('1')
    .addBearerAuth()
    .addSecurityRequirements('bearer')
    .build();
  const document = SwaggerModule.createDocument(app, config);
  const schemas = (document.components ??= {}).schemas ??= {};
  // Query DTOs became parameters and are referenced by no one: keep only referenced components.
  const referenced = JSON.stringify(document.paths);
  for (const [name, dto] of documentedDtos) {
    if (referenced.includes(`"#/components/schemas/${name}"`)) schemas[name] = openApiSchema(dto.schema, dto.io);
    else delete schemas[name];
  }
  schemas['ApiError'] = openApiSchema(ApiError, 'output');
  SwaggerModule.setup('api/docs', app, document, { jsonDocumentUrl: 'api/docs-json' });
  return document;
}

function openApiSchema(schema: z.ZodType, io: 'input' | 'output'): Record<string, unknown> {
  const { $schema: _ignored, ...json } = z.toJSONSchema(schema, { target: 'openapi-3.0', io, unrepresentable: 'any' });
  return json;
}
