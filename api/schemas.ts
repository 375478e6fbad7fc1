import * as z from 'zod';
import { count, Currency, CustomerId, IdempotencyKey, Money, Sku } from '../domain/shared/values.js';
import { OrderStatus } from '../domain/order/state.js';
import { FILTERED_PAGE_READS } from '../projections/orders.js';
import { isoCurrencies } from './currencies.js';
import { figure } from './figures.js';

/** Order ids are UUIDs we mint; anything else cannot name an order. */
export const orderIdShape = z.string().regex(/^[0-9a-f-]{36}$/, 'an order id');
export const OrderIdParam = orderIdShape.meta({ description: 'The order’s id, as `POST /orders` answered it.' });

export const SkuParam = Sku.meta({ description: 'The product’s SKU.' });

/**
 * For the document: one pattern where zod writes each of its checks as a pattern of its own under `allOf`, which
 * generated clients type as an intersection of unknowns.
 */
const documentedPattern = (pattern: string, { lengthInDescription = false } = {}) => ({
  override: ({ jsonSchema }: { jsonSchema: Record<string, unknown> }) => {
    delete jsonSchema.allOf;
    jsonSchema.pattern = pattern;
    if (lengthInDescription) delete jsonSchema.maxLength;
  },
});

/**
 * A currency a price may be set in ({@link isoCurrencies}): a typo such as `EUE` would stay on the product until
 * its next price. Events keep the plain three-letter shape, so nothing already stored stops parsing.
 */
const IsoCurrency = Currency.refine(
  // A code not even shaped like one is the format check's to report, once.
  (code) => !/^[A-Z]{3}$/.test(code) || isoCurrencies.has(code),
  'a currency ISO 4217 lists, such as EUR',
  // The refinement is code, which no JSON Schema carries: the contract lists the codes it takes.
).meta({ enum: [...isoCurrencies].sort() });

/** What a product's name may not hold, as a character class's contents. */
const garbling = String.raw`\p{Cc}\p{Zl}\p{Zp}\p{Noncharacter_Code_Point}\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069`;
/** A character a name must hold at least one of. */
const visible = String.raw`[\p{L}\p{N}\p{P}\p{S}]`;
/**
 * The same rule for the document, in the regular expressions every JSON Schema validator reads: Python's and most
 * linters' know no `\p{…}`, and refused every name, or crashed, on the pattern above. It names its characters by
 * range, with no `\s` (which Python reads otherwise), so it is the rule's part within the Basic Multilingual Plane,
 * and "visible" there is anything but white space or a format character: looser than the server's check, never
 * stricter. Its parts never overlap, so a validator decides a long name in one pass, not after trying every split.
 */
const garblingInDocument = String.raw`\u0000-\u001F\u007F-\u009F\u2028\u2029\uFDD0-\uFDEF\uFFFE\uFFFF\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069`;
/** The garbling characters the server trims off either end: tabs, line breaks, line and paragraph separators. */
const trimmedGarbling = String.raw`\u0009-\u000D\u2028\u2029`;
/** White space and format characters that garble nothing: the rest of what the server trims, and invisible marks. */
const invisible = String.raw`\u0020\u00A0\u00AD\u1680\u180E\u2000-\u200D\u202F\u205F\u2060-\u2064\u3000\uFEFF`;
const nameInDocument =
  `^[${invisible}${trimmedGarbling}]*` + // what may stand before the first visible character
  `[^${garblingInDocument}${invisible}]` + // the first visible character
  `[^${garblingInDocument}]*` + // the rest, up to any trimmed garbling character at the end
  `(?:[${trimmedGarbling}][${invisible}${trimmedGarbling}]*)?$`;

// Trimmed first: a name of spaces alone is empty. What would garble every page that shows a product's name is refused:
// control characters, line and paragraph separators, bidirectional marks and overrides, noncharacters, and a name of
// nothing visible. A registration and a rename take the same names.
const ProductNameField = z
  .string()
  .trim()
  // One problem per name: a blank one is blank, not also invisible.
  .min(1, { abort: true })
  .max(200)
  .regex(
    new RegExp(`^[^${garbling}]*$`, 'u'),
    'no control characters, line or paragraph separators, bidirectional marks or overrides, or noncharacters',
  )
  .regex(new RegExp(visible, 'u'), 'at least one letter, digit, punctuation mark or symbol')
  .meta({
    // The two checks as one pattern, for the document. The server trims first, so the document lets white space
    // (tabs and line breaks too) stand at either end, and leaves the length to the description: a maxLength
    // would count the white space the server trims off.
    ...documentedPattern(nameInDocument, { lengthInDescription: true }),
    description:
      'Trimmed, then 1 to 200 characters, at least one a letter, digit, punctuation mark or symbol; no control ' +
      'characters, line or paragraph separators, bidirectional marks or overrides, or noncharacters.',
  });

export const RegisterProductRequest = z
  .strictObject({
    sku: Sku,
    name: ProductNameField,
    price: Money.extend({ currency: IsoCurrency }),
    stock: count(0, 1_000_000),
  })
  .meta({ id: 'RegisterProductRequest' });
export type RegisterProductRequest = z.infer<typeof RegisterProductRequest>;

export const RestockRequest = z.strictObject({ quantity: count(1, 1_000_000) }).meta({ id: 'RestockRequest' });

export const RepriceRequest = z
  .strictObject({ price: Money.extend({ currency: IsoCurrency }) })
  .meta({ id: 'RepriceRequest' });
export type RepriceRequest = z.infer<typeof RepriceRequest>;

export const RenameRequest = z.strictObject({ name: ProductNameField }).meta({ id: 'RenameRequest' });
export type RenameRequest = z.infer<typeof RenameRequest>;

export type RestockRequest = z.infer<typeof RestockRequest>;

export const PlaceOrderRequest = z
  .strictObject({
    items: z
      .array(z.strictObject({ sku: Sku, quantity: count(1, 1000) }))
      .min(1)
      .max(50),
    // A gateway's token is printable ASCII: anything else is no token any gateway handed out.
    payment: z.strictObject({
      token: z
        .string()
        .min(1)
        .max(256)
        .regex(/^[\x21-\x7E]+$/, 'printable ASCII, no spaces'),
    }),
  })
  .meta({ id: 'PlaceOrderRequest' });
export type PlaceOrderRequest = z.infer<typeof PlaceOrderRequest>;

/**
 * An `Idempotency-Key` as a request sends it: no comma, since API Gateway joins a header sent twice into one value with
 * commas, and `a,b` would then be a key neither request sent (a retry with `a` alone would act again). Keys stored
 * before this rule keep the domain's shape.
 */
const HeaderKey = IdempotencyKey.regex(
  /^[^,]*$/,
  'no comma: a header sent twice arrives as one value joined by commas; send the header once',
).meta(documentedPattern(String.raw`^[\x21-\x2b\x2d-\x7e]{1,255}$`));

export const OrderKey = HeaderKey.meta({
  description: 'Sending the same key again returns the same order instead of placing another.',
});

export const RegistrationKey = HeaderKey.meta({
  description:
    'Sending the same key again registers nothing more, however long after, and answers the product as it is now: a ' +
    'retry of a registration is safe. The same key with another name, price or stock is refused.',
});

export const RestockKey = HeaderKey.meta({
  description:
    'Sending the same key again adds nothing more, however long after: a retry of a restock is safe. The same key ' +
    'for another quantity is refused.',
});

export const WriteOffKey = HeaderKey.meta({
  description:
    'Sending the same key again takes nothing more, however long after: a retry of a write-off is safe. The same ' +
    'key for another quantity is refused.',
});

export const RepriceKey = HeaderKey.meta({
  description:
    'Sending the same key again changes nothing more, however long after: a late retry cannot undo a price given ' +
    'after it. The same key for another price is refused.',
});

export const RenameKey = HeaderKey.meta({
  description:
    'Sending the same key again changes nothing more, however long after: a late retry cannot undo a name given ' +
    'after it. The same key for another name is refused.',
});

export const WriteOffRequest = z.strictObject({ quantity: count(1, 1_000_000) }).meta({ id: 'WriteOffRequest' });

/** A page's size, from the query string. */
const pageLimit = (items: string) =>
  // Digits only, with no leading zero: a number's other spellings (`1e1`, `0x10`, ` 10`, `010`) are not a page size,
  // and each refusal says the same. The pattern holds the bound too, so the document states it.
  z
    .string()
    .regex(/^(?:[1-9][0-9]?|100)$/, 'a whole number from 1 to 100')
    .transform(Number)
    .optional()
    .transform((limit) => limit ?? 20)
    .meta({
      description: `How many ${items} a page holds: 1 to 100, 20 when left out.`,
      // A query parameter is text on the wire; a client states it as the whole number it is.
      override: ({ jsonSchema }: { jsonSchema: Record<string, unknown> }) => {
        delete jsonSchema.pattern;
        Object.assign(jsonSchema, { type: 'integer', minimum: 1, maximum: 100, default: 20 });
      },
    });

const pageCursor = z
  .string()
  .min(1)
  .max(2048)
  .optional()
  .meta({ description: 'The `nextCursor` of the page before, for the page after it; left out, the first page.' });

/** A moment in the query string: a date and time with `Z` or an offset. */
const instantParam = (description: string) =>
  z.iso
    .datetime({
      offset: true,
      error: (issue) =>
        'an ISO 8601 date and time with Z or an offset, e.g. 2026-12-01T15:00:00Z' +
        // A query string reads `+` as a space: `+01:00` sent as is arrives as ` 01:00`.
        (typeof issue.input === 'string' && / \d{2}(:?\d{2})?$/.test(issue.input)
          ? '; an offset’s + arrives as a space unless it is sent as %2B'
          : ''),
    })
    .optional()
    .meta({ description });

const statusNames = OrderStatus.options.join('|');
/** One or more statuses, comma-separated: what the filter checks and what the document states, one pattern. */
const statusList = `^(${statusNames})(,(${statusNames}))*$`;

/** Which statuses a listing keeps, as a comma-separated list (`CONFIRMED,CANCELLED`); a repeated one counts once. */
const statusFilter = z
  .string()
  .regex(new RegExp(statusList), {
    error: `one or more of ${OrderStatus.options.join(', ')}, separated by commas`,
  })
  .transform((list) => [...new Set(list.split(','))] as OrderStatus[])
  .optional()
  .meta({
    description:
      'Only orders in these statuses, comma-separated (`CONFIRMED,CANCELLED`); all of them when left out. A page ' +
      `then reads at most ${figure(FILTERED_PAGE_READS)} of the customer’s orders, so it may hold ` +
      'fewer than `limit`, or none, and still have a `nextCursor`.',
    override: ({ jsonSchema }: { jsonSchema: Record<string, unknown> }) => {
      Object.assign(jsonSchema, { type: 'string', pattern: statusList });
    },
  });

// Strict, as the bodies are: a misspelt parameter (`limt`) is refused, not ignored with the answer quietly changed.
export const ListOrdersQuery = z
  .strictObject({
    limit: pageLimit('orders'),
    cursor: pageCursor,
    customerId: CustomerId.optional().meta({
      description:
        'Whose orders: the caller’s own when left out. Another customer’s id needs the orderflow/admin scope (403).',
    }),
    status: statusFilter,
    placedFrom: instantParam('Only orders placed at this moment or later: a date and time with `Z` or an offset.'),
    placedBefore: instantParam(
      'Only orders placed before this moment: a date and time with `Z` or an offset, later than `placedFrom`.',
    ),
  })
  .refine(
    ({ placedFrom, placedBefore }) => !placedFrom || !placedBefore || Date.parse(placedFrom) < Date.parse(placedBefore),
    { path: ['placedBefore'], error: 'a moment later than placedFrom' },
  );

export const ListProductsQuery = z.strictObject({ limit: pageLimit('products'), cursor: pageCursor });

export const OrderAtQuery = z.strictObject({
  at: instantParam(
    'Answer the order as it was at this moment, folded from its events: a date and time with `Z` or an offset.',
  ),
});
