import Ajv, { type ErrorObject } from 'ajv';
import type { FastifySchemaCompiler } from 'fastify';
import { InvalidRequestError } from '../client-errors';

/**
 * Request validation for the declared schemas. Two Ajv instances, because the parts differ:
 * bodies and headers are taken exactly as sent (no type coercion: `"amount": 1` stays a refused
 * number; unknown fields are refused, never silently removed), while the path and the query
 * string are text by nature and coerced to the declared types (`?size=512` is an integer).
 */
const common = {
  allErrors: false,
  discriminator: true,
  strict: false,
  useDefaults: false,
  removeAdditional: false,
} as const;
const exact = new Ajv({ ...common, coerceTypes: false });
const coercing = new Ajv({ ...common, coerceTypes: true });

export const validatorCompiler: FastifySchemaCompiler<unknown> = ({ schema, httpPart }) => {
  const ajv = httpPart === 'querystring' || httpPart === 'params' ? coercing : exact;
  return ajv.compile(schema as object);
};

/** Shared schemas (`$ref` targets) must be known to both validators. */
export function addSharedSchemas(schemas: ReadonlyArray<{ $id?: string }>): void {
  for (const schema of schemas) {
    if (!schema.$id) continue;
    for (const ajv of [exact, coercing]) if (!ajv.getSchema(schema.$id)) ajv.addSchema(schema);
  }
}

/** Header names as merchants write them, for the `field` of an error. */
const HEADER_NAMES: Record<string, string> = { 'idempotency-key': 'Idempotency-Key' };

/**
 * A schema validation failure as the merchant API reports every input problem: a 400 naming the
 * field (`channelFee.amount`, `storeNmae`, `Idempotency-Key`, `pageToken`).
 */
export function validationFailure(
  errors: ReadonlyArray<ErrorObject>,
  part: string | undefined,
): InvalidRequestError {
  const e = errors[0];
  if (!e) return new InvalidRequestError(part ?? 'body', 'is invalid');
  const path = e.instancePath
    .split('/')
    .filter((p) => p !== '')
    .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
  const params = e.params as { additionalProperty?: string; missingProperty?: string };
  let reason = e.message ?? 'is invalid';
  if (e.keyword === 'additionalProperties' && params.additionalProperty) {
    path.push(params.additionalProperty);
    reason = 'is not a known field';
  } else if (e.keyword === 'required' && params.missingProperty) {
    path.push(params.missingProperty);
    reason = 'is required';
  } else if (e.keyword === 'enum') {
    const allowed = (e.params as { allowedValues?: unknown[] }).allowedValues;
    if (allowed) reason = `must be one of ${allowed.join(', ')}`;
  }
  let field = path.join('.');
  if (part === 'headers') field = HEADER_NAMES[field] ?? field;
  if (field === '') field = part === 'body' || part === undefined ? 'body' : part;
  return new InvalidRequestError(field, reason);
}
