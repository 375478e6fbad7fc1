import type { OrderLine, OrderPlaced, StockReserved } from '../../domain/order/index.js';

/**
 * One order of two SKUs, 2 mugs and 3 teas, as its events say it: the fixture the domain's and the read side's tests
 * share, so each says what it does to the order rather than how the order is spelled.
 */
export const eur = (amount: number) => ({ amount, currency: 'EUR' });
export const mug: OrderLine = { sku: 'MUG-1', quantity: 2, unitPrice: eur(1250) };
export const tea: OrderLine = { sku: 'TEA-9', quantity: 3, unitPrice: eur(499) };
export const mugAndTea: OrderLine[] = [mug, tea];

/** The order placed: customer-1 buys a mug and tea for 39.97 EUR. */
export const orderPlaced = (orderId: string, paymentToken = 'tok_approve'): OrderPlaced => ({
  type: 'OrderPlaced',
  data: { orderId, customerId: 'customer-1', lines: mugAndTea, total: eur(3997), paymentToken },
});

/** Its units reserved: SKU and quantity of each line (no price), what the stock balances move. */
export const orderStockReserved = (orderId: string): StockReserved => ({
  type: 'StockReserved',
  data: { orderId, lines: mugAndTea.map(({ sku, quantity }) => ({ sku, quantity })) },
});

/** An order of one unit of `sku`, placed and its unit reserved: what a single SKU's stock sees of an order. */
export const oneUnitPlaced = (
  orderId: string,
  sku: string,
  unitPrice = eur(1250),
  paymentToken = 'tok_approve',
): [OrderPlaced, StockReserved] => [
  {
    type: 'OrderPlaced',
    data: {
      orderId,
      customerId: 'customer-1',
      lines: [{ sku, quantity: 1, unitPrice }],
      total: unitPrice,
      paymentToken,
    },
  },
  { type: 'StockReserved', data: { orderId, lines: [{ sku, quantity: 1 }] } },
];
