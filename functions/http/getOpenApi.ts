import { openApiDocument } from '../../api/openapi.js';
import { route } from '../../api/routes.js';
import { version } from '../../api/version.js';
import { httpHandler, ok } from './httpHandler.js';

// Built once per cold start: the document never changes within a deployment.
const document = openApiDocument(version);

export const handler = httpHandler(route('getOpenApi'), async () => ok(document));
