import { upcasters } from '../domain/upcasters.js';
import { eventSchemaRegistry } from '../eventstore/upcasting.js';

/**
 * The one event-schema registry: every reader of stored events gets this one, through the composition root or,
 * where a function needs nothing else of it, directly. A module of its own, so the saga starter's bundle does not
 * pull in the whole root.
 */
export const eventSchemas = eventSchemaRegistry(upcasters);
