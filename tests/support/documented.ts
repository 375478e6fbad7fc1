import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import type { oas31 } from 'zod-openapi';
import { openApiDocument } from '../../api/openapi.js';
import { routePattern } from '../../api/routePattern.js';
import { version } from '../../api/version.js';

// ajv-formats is CommonJS with its function as the default export; under NodeNext it arrives wrapped once more.
const addFormats = addFormatsModule as unknown as (ajv: Ajv2020) => Ajv2020;

/** An answer as the harness sees it: enough to hold it to the published contract. */
export type DocumentedAnswer = { status: number; headers: Headers; text: string };

type Operation = oas31.OperationObject;
type Response = oas31.ResponseObject;

const document = openApiDocument(version);

// OpenAPI 3.1's schemas are JSON Schema 2020-12 with a few annotations of its own, which ajv ignores when not strict.
const ajv = addFormats(new Ajv2020({ strict: false, allErrors: true }));
const validators = new Map<string, ValidateFunction>();

/**
 * The schema with every object closed to the properties it names, as a client generated from the document would read
 * it: a field an answer carries that the contract does not name is a departure too. (zod strips unknown keys from what
 * it parses, so the output schemas leave `additionalProperties` open; `unevaluatedProperties` also sees through
 * `allOf` and `$ref`.)
 */
const closed = (schema: unknown): unknown => {
  if (Array.isArray(schema)) return schema.map(closed);
  if (typeof schema !== 'object' || schema === null) return schema;
  const entries = Object.entries(schema).map(([key, value]) => [key, closed(value)] as const);
  const object = Object.fromEntries(entries) as Record<string, unknown>;
  return 'properties' in object && !('additionalProperties' in object)
    ? { ...object, unevaluatedProperties: false }
    : object;
};
const validatorOf = (key: string, schema: oas31.SchemaObject | oas31.ReferenceObject): ValidateFunction => {
  const known = validators.get(key);
  if (known) return known;
  // Every schema compiles with the components beside it, as $defs, so its references resolve inside it.
  const rooted = JSON.parse(
    JSON.stringify({ ...schema, $defs: document.components?.schemas ?? {} }).replaceAll(
      '"#/components/schemas/',
      '"#/$defs/',
    ),
  ) as unknown;
  const validate = ajv.compile(closed(rooted) as object);
  validators.set(key, validate);
  return validate;
};

const templates = Object.keys(document.paths ?? {}).map((template) => ({
  template,
  pattern: routePattern(template).pattern,
}));

/**
 * The response headers the contract names anywhere, lower-cased: an answer carrying one its status does not list
 * tells the client something the document says it never will (a `Retry-After` on a `409` that time does not cure).
 */
const documentedHeaders = new Set(
  Object.values(document.paths ?? {}).flatMap((item) =>
    Object.values(item ?? {}).flatMap((operation) =>
      Object.values((operation as Operation).responses ?? {}).flatMap((response) =>
        Object.keys((response as Response).headers ?? {}).map((name) => name.toLowerCase()),
      ),
    ),
  ),
);

/** The documented operation that serves this method and path, if the contract has one. */
const operationOf = (method: string, path: string): { template: string; operation: Operation } | undefined => {
  const pathOnly = path.split('?')[0] ?? path;
  const match = templates.find(({ pattern }) => pattern.test(pathOnly));
  if (!match) return undefined;
  const operation = document.paths?.[match.template]?.[method.toLowerCase() as 'get'];
  return operation ? { template: match.template, operation } : undefined;
};

/**
 * Where an answer departs from docs/openapi.json, in words; empty when it holds to it. An answer to a route the
 * contract does not have is not held to anything here (the unknown route's own 404 is checked by its tests). An answer
 * to a documented route must have a documented status, a documented content type, a body its schema accepts, and
 * every header the contract says it carries (a 304 excepted, which carries no body).
 */
export const departuresFromContract = (method: string, path: string, answer: DocumentedAnswer): string[] => {
  const found = operationOf(method, path);
  if (!found) return [];
  const { template, operation } = found;
  const where = `${method} ${template} → ${answer.status}`;
  const response = (operation.responses?.[String(answer.status)] ?? operation.responses?.default) as
    Response | undefined;
  if (!response) return [`${where}: status not documented`];
  const departures: string[] = [];
  for (const [name, header] of Object.entries(response.headers ?? {})) {
    if ((header as oas31.HeaderObject).required && !answer.headers.has(name))
      departures.push(`${where}: header ${name} missing`);
  }
  const listed = new Set(Object.keys(response.headers ?? {}).map((name) => name.toLowerCase()));
  for (const name of answer.headers.keys()) {
    if (documentedHeaders.has(name) && !listed.has(name)) departures.push(`${where}: header ${name} not documented`);
  }
  const contentType = answer.headers.get('content-type')?.split(';')[0]?.trim();
  const media = response.content ?? {};
  if (method === 'HEAD' || answer.status === 304 || Object.keys(media).length === 0) {
    if (method !== 'HEAD' && answer.text !== '' && Object.keys(media).length === 0)
      departures.push(`${where}: a body where none is documented`);
    return departures;
  }
  const schema = contentType ? media[contentType]?.schema : undefined;
  if (!contentType || !schema) return [...departures, `${where}: content type ${contentType} not documented`];
  let body: unknown;
  try {
    body = JSON.parse(answer.text);
  } catch {
    return [...departures, `${where}: the body is not JSON`];
  }
  const validate = validatorOf(`${method} ${template} ${answer.status} ${contentType}`, schema);
  if (!validate(body))
    departures.push(
      ...(validate.errors ?? []).map(
        (error) =>
          `${where}: body${error.instancePath || ''} ${error.message ?? 'invalid'} ${JSON.stringify(error.params)}`,
      ),
    );
  // A 409 lists Retry-After for its concurrent-modification, which passes with time; another type on the same
  // status (an order rejected, a SKU taken) does not, and a Retry-After would have the client retry in vain.
  const type = (body as { type?: unknown } | null)?.type;
  if (answer.status === 409 && typeof type === 'string') {
    const retryable = type.endsWith(':concurrent-modification');
    if (retryable !== answer.headers.has('retry-after'))
      departures.push(`${where}: ${retryable ? 'no Retry-After with' : 'a Retry-After with'} ${type}`);
  }
  return departures;
};
