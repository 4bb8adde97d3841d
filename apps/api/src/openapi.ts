import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, SwaggerModule, type OpenAPIObject } from '@nestjs/swagger';
import { ErrorBody } from './common/response.dto';
import { API_KEY_SCHEME } from './common/route.decorator';

/** The OpenAPI document, generated from the controllers' DTOs and decorators. */
export function openApiDocument(app: INestApplication): OpenAPIObject {
  const config = new DocumentBuilder()
    .setTitle('Loyalty ledger API')
    .setVersion('1')
    .setDescription(
      [
        'An event-sourced loyalty points ledger (see the project README and CONTRACT).',
        '',
        '**Authentication**: `Authorization: Bearer <key>`; keys are created with `loyalty keys create --role R --name N`.',
        'Roles: `reader` < `writer`, `analyst`, `operator` < `admin` (writer, analyst and operator each include reader; admin includes all).',
        'Each operation says the role it needs (also as `x-required-role`). 401 without a valid key, 403 for a role that may not.',
        '',
        '**Errors** are always `{error, message, details?}` (schema ErrorBody): 400 bad input (the field is named in `details.fields`), 413 a body over 64 KiB, 429 with `Retry-After` when a key exceeds its rate.',
        '',
        '**Consistency**: reads are eventually consistent; a command answers the member `sequence` it produced, and `GET …/balance?minSequence=N` waits (bounded) for it.',
      ].join('\n'),
    )
    .addBearerAuth({ type: 'http', scheme: 'bearer', bearerFormat: 'API key (lk_…)', description: 'An API key: the bootstrap key, or one made by `loyalty keys create`' }, API_KEY_SCHEME)
    .addTag('purchases')
    .addTag('members')
    .addTag('commands')
    .addTag('rewards')
    .addTag('leaderboards')
    .addTag('analytics')
    .addTag('operations')
    .build();
  return SwaggerModule.createDocument(app, config, { extraModels: [ErrorBody] });
}

/** Swagger UI at /docs, the document at /docs-json (both public: the document holds no secret). */
export function setupOpenApi(app: INestApplication): void {
  const document = openApiDocument(app);
  SwaggerModule.setup('docs', app, document, {
    jsonDocumentUrl: 'docs-json',
    customSiteTitle: 'Loyalty ledger API',
    swaggerOptions: { persistAuthorization: false, displayRequestDuration: true },
  });
}
