import { describe, expect, it } from 'vitest';
import { exampleOf } from '../../../api/examples.js';
import { openApiDocument } from '../../../api/openapi.js';
import { responseSchemas } from '../../../api/responses.js';
import { type Route, routes as typedRoutes } from '../../../api/routes.js';
import { version } from '../../../api/version.js';
import { departuresFromContract } from '../../support/documented.js';

const routes: readonly Route[] = typedRoutes;
const exampled = routes.flatMap((route) => {
  const example = exampleOf(route.operationId);
  return example ? [{ route, example }] : [];
});
/** The route's path with its parameters filled in, as a client would call it. */
const pathOf = (template: string) =>
  template.replace('{sku}', 'MUG-001').replace('{orderId}', '0f8fad5b-d9cb-469f-a165-70867728950e');

describe("the document's examples", () => {
  it('show every route but the document itself', () => {
    expect(routes.filter((route) => !exampled.some((e) => e.route === route)).map((r) => r.operationId)).toEqual([
      'getOpenApi',
    ]);
  });

  it.each(exampled.map(({ route, example }) => [route.operationId, route, example] as const))(
    '%s: its request is one the route takes, and its answer one the route gives, as the document says',
    (_, route, example) => {
      if (route.body) {
        expect(route.body.safeParse(example.request).error).toBeUndefined();
      } else {
        expect(example.request).toBeUndefined();
      }
      const response = route.responses[example.response.status];
      const schema = response?.schema && responseSchemas[response.schema];
      expect(schema?.safeParse(example.response.value).error).toBeUndefined();
      // The headers a real answer of that status carries: a write's 2xx its Location, a read's 200 its ETag.
      const status = example.response.status;
      const headers = new Headers({
        'content-type': 'application/json',
        'x-correlation-id': 'c',
        ...(status === 201 || status === 202 ? { location: '/somewhere' } : {}),
        ...(status === 200 && route.method === 'GET' ? { etag: '"1"', 'cache-control': 'no-cache' } : {}),
      });
      expect(
        departuresFromContract(route.method, pathOf(route.path), {
          status,
          headers,
          text: JSON.stringify(example.response.value),
        }),
      ).toEqual([]);
    },
  );

  it('are in the document, beside the schemas they illustrate', () => {
    const document = openApiDocument(version);
    for (const { route, example } of exampled) {
      const operation = document.paths?.[route.path]?.[route.method.toLowerCase() as 'get'];
      const media = (content: unknown) =>
        (content as Record<string, { example?: unknown }> | undefined)?.['application/json'];
      if (example.request !== undefined) {
        expect(media((operation?.requestBody as { content?: unknown })?.content)?.example, route.operationId).toEqual(
          example.request,
        );
      }
      const answered = operation?.responses?.[String(example.response.status)] as { content?: unknown } | undefined;
      expect(media(answered?.content)?.example, route.operationId).toEqual(example.response.value);
    }
  });
});
