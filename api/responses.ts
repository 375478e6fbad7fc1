import * as z from 'zod';
import { Money, Sku } from '../domain/shared/values.js';
import { shownOrderData } from '../domain/order/shown.js';
import { OrderView } from '../projections/orders.js';
import { FIELD_ERRORS_LISTED } from './problems.js';
import { orderIdShape } from './schemas.js';

// What the API answers, for the document (api/openapi.ts) and the tests that check answers against it. Apart from the
// requests' schemas (api/schemas.ts) because no function validates its answers: every HTTP function imports the route
// table, and building these schemas at its init would cost each cold start for nothing.

const Discontinued = z.boolean().meta({
  description:
    'Sold no more, for good (POST /products/{sku}/discontinue): orders for it are refused, and so are restocks. ' +
    'The listing shows only products for sale.',
});

/** A product's catalogue facts: what a new price, a new name or discontinuing answers. */
export const ProductFacts = z
  .strictObject({ sku: Sku, name: z.string(), price: Money, discontinued: Discontinued })
  .meta({ id: 'ProductFacts' });

export const StockFigures = z
  .strictObject({ available: z.int().min(0), reserved: z.int().min(0), sold: z.int().min(0) })
  .meta({ id: 'StockFigures' });

/** A restock's or a write-off's answer: the SKU's stock figures as `GET /products/{sku}` nests them, and their version. */
export const StockMoved = z
  .strictObject({ sku: Sku, stock: StockFigures, version: z.int().min(0) })
  .meta({ id: 'StockMoved' });

export const Product = z
  .strictObject({
    sku: Sku,
    name: z.string(),
    price: Money,
    stock: StockFigures,
    version: z.int().min(0).meta({
      description: 'The version of its stock: each move of the figures. A new price leaves it; the ETag changes.',
    }),
    discontinued: Discontinued,
  })
  .meta({ id: 'Product' });
export type Product = z.infer<typeof Product>;

export const OrderAccepted = z
  .strictObject({
    orderId: orderIdShape,
    status: OrderView.shape.status,
    rejectionReason: OrderView.shape.rejectionReason.meta({
      description: 'Why, when the order is REJECTED already (OUT_OF_STOCK at once, or as a retry found it).',
    }),
    outOfStock: OrderView.shape.outOfStock,
    lines: OrderView.shape.lines.meta({
      description: 'The lines as placed: each at its product’s price and under its name then (never the client’s).',
    }),
    total: OrderView.shape.total.meta({ description: 'What the order costs, from those prices.' }),
  })
  .meta({ id: 'OrderAccepted' });
export type OrderAccepted = z.infer<typeof OrderAccepted>;

/** An event of the order's history, as its shown form names its data (the payment token is never among it). */
const historyEvent = <Type extends keyof typeof shownOrderData>(type: Type) =>
  z
    .strictObject({
      type: z.literal(type),
      version: z.int().min(1),
      data: shownOrderData[type],
      recordedAt: z.string().meta({ format: 'date-time' }),
      correlationId: z.string(),
    })
    .meta({ id: `${type}InHistory` });

export const OrderHistoryEvent = z
  .union([
    historyEvent('OrderPlaced'),
    historyEvent('StockReserved'),
    historyEvent('OrderConfirmed'),
    historyEvent('OrderRejected'),
    historyEvent('OrderCancelled'),
    historyEvent('PaymentAwaited'),
    z
      .strictObject({
        type: z.string(),
        version: z.int().min(1),
        data: z.strictObject({}),
        recordedAt: z.string().meta({ format: 'date-time' }),
        correlationId: z.string(),
      })
      .meta({
        id: 'UnreadEventInHistory',
        description:
          'An event this version of the API cannot read (a later version wrote it, before a rollback): its type, and ' +
          'none of its data.',
      }),
  ])
  .meta({ id: 'OrderHistoryEvent' });

export const OrderHistory = z.strictObject({ events: z.array(OrderHistoryEvent) }).meta({ id: 'OrderHistory' });
export type OrderHistory = z.infer<typeof OrderHistory>;

/** RFC 9457 problem details, as every error is answered. */
export const Problem = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.int(),
    detail: z.string(),
    instance: z.string().optional(),
    correlationId: z.string(),
    /** Each invalid field: a JSON pointer into the body, or the name of a header or query parameter. */
    errors: z
      .array(
        z.union([
          z.strictObject({ pointer: z.string(), detail: z.string() }),
          z.strictObject({ header: z.string(), detail: z.string() }),
          z.strictObject({ parameter: z.string(), detail: z.string() }),
        ]),
      )
      .max(FIELD_ERRORS_LISTED)
      .optional()
      .meta({ description: `Each invalid field, the first ${FIELD_ERRORS_LISTED} (the detail counts them all).` }),
  })
  .meta({ id: 'Problem' });
export type Problem = z.infer<typeof Problem>;

/** What API Gateway answers itself, before any function runs: a refused token, a missing scope, throttling. */
export const GatewayMessage = z.object({ message: z.string() }).meta({ id: 'GatewayMessage' });

/** An order as the read model holds it, with the stream version it reflects (also its ETag). */
// The read model keeps any id it is given; the ones it is given are the ids we mint.
export const Order = OrderView.extend({
  orderId: orderIdShape,
  version: z.int().min(1),
  cancellableUntil: z.iso
    .datetime()
    .optional()
    .meta({
      description:
        'A confirmed order: until when its customer may cancel it (the stage’s cancellation window from its ' +
        'confirmation; an admin may at any time). Past it, a customer’s cancel is refused: 409 ' +
        'cancellation-window-closed.',
    }),
}).meta({ id: 'Order' });
export type Order = z.infer<typeof Order>;

export const OrderPage = z
  .strictObject({
    orders: z.array(Order),
    nextCursor: z.string().optional().meta({ description: 'Pass as `cursor` for the next page; absent on the last.' }),
  })
  .meta({ id: 'OrderPage' });
export type OrderPage = z.infer<typeof OrderPage>;

export const ProductPage = z
  .strictObject({
    products: z.array(Product),
    nextCursor: OrderPage.shape.nextCursor,
  })
  .meta({ id: 'ProductPage' });
export type ProductPage = z.infer<typeof ProductPage>;

/** Each answer's schema, by the name the route table gives it (api/routes.ts), so that the table need not build it. */
export const responseSchemas = {
  Product,
  ProductFacts,
  StockMoved,
  OrderAccepted,
  OrderHistory,
  Order,
  OrderPage,
  ProductPage,
  OpenApiDocument: z.looseObject({ openapi: z.string() }),
};
export type ResponseSchema = keyof typeof responseSchemas;
