import { describe, expect, inject, it } from 'vitest';
import { simulatedPaymentGateway } from '../../adapters/simulatedPaymentGateway.js';
import { Order, Product } from '../../api/responses.js';
import type { CommandContext } from '../../application/handleCommand.js';
import type { PaymentGateway } from '../../application/paymentGateway.js';
import { authorizePayment, confirmOrder } from '../../application/saga.js';
import { localStack, testMetadata } from '../support/stack.js';
import { admin, eventually, givenProduct, storedEvents, uniqueCustomer, useTestApi } from './http.js';
import { simulatorItem as readSimulatorItem } from '../support/simulator.js';

const { call } = useTestApi();

type OrderStatus = Order['status'];
const terminal: readonly OrderStatus[] = ['CONFIRMED', 'REJECTED', 'CANCELLED'];

const placeOrder = async (
  customer: string,
  sku: string,
  { quantity = 1, token = 'tok_visa' }: { quantity?: number; token?: string } = {},
): Promise<string> => {
  const answer = await call('POST', '/orders', {
    as: customer,
    body: { items: [{ sku, quantity }], payment: { token } },
  });
  expect(answer.status, answer.text).toBe(202);
  const { orderId } = answer.json;
  if (typeof orderId !== 'string') throw new Error(`no order id in ${answer.text}`);
  return orderId;
};

const readOrder = async (orderId: string, customer: string): Promise<Order | undefined> => {
  const answer = await call('GET', `/orders/${orderId}`, { as: customer });
  if (answer.status === 404) return undefined;
  expect(answer.status, answer.text).toBe(200);
  return Order.parse(answer.json);
};

/** Polls the order until it is in a terminal state, then expects `status`. */
const settledOrder = async (
  orderId: string,
  customer: string,
  status: OrderStatus,
  timeoutMs = 20_000,
): Promise<Order> => {
  const order = await eventually(
    () => readOrder(orderId, customer),
    (read) => expect(read?.status).toBe(status),
    { timeoutMs, intervalMs: 100 },
  );
  if (!order) throw new Error(`order ${orderId} not found`);
  return order;
};

// The product's view follows its events on a consumer of its own, which may lag the orders' one: not there yet is a
// value to wait for, like a stale one, where any other answer fails at once.
const readProduct = async (sku: string): Promise<Product | undefined> => {
  const answer = await call('GET', `/products/${sku}`, { as: admin });
  if (answer.status === 404) return undefined;
  expect(answer.status, answer.text).toBe(200);
  return Product.parse(answer.json);
};

const stockEventually = async (sku: string, stock: Product['stock']): Promise<void> => {
  await eventually(
    () => readProduct(sku),
    (product) => expect(product?.stock).toEqual(stock),
    { timeoutMs: 20_000, intervalMs: 100 },
  );
};

const simulatorItem = async (orderId: string): Promise<Record<string, unknown> | undefined> => {
  const { client } = localStack();
  const table = inject('environment').PAYMENT_SIMULATOR_TABLE;
  if (!table) throw new Error('no PAYMENT_SIMULATOR_TABLE in the environment');
  return readSimulatorItem(client, table, orderId);
};

const eventTypes = async (streamId: string): Promise<string[]> =>
  (await storedEvents(streamId)).map((event) => String(event.type));

const eventsFor = async (streamId: string, type: string, orderId: string): Promise<number> =>
  (await storedEvents(streamId)).filter((event) => {
    const data = event.data as { orderId?: unknown } | undefined;
    return event.type === type && data?.orderId === orderId;
  }).length;

describe('order saga', () => {
  it('confirms an order paid with tok_visa and sells its stock', async () => {
    const sku = await givenProduct(call, { stock: 10 });
    const customer = uniqueCustomer();
    const orderId = await placeOrder(customer, sku, { quantity: 3 });

    const order = await settledOrder(orderId, customer, 'CONFIRMED');
    expect(order.rejectionReason).toBeUndefined();
    expect(order.confirmedAt).toEqual(expect.any(String));
    await stockEventually(sku, { available: 7, reserved: 0, sold: 3 });
    expect(await eventTypes(`payment-${orderId}`)).toEqual(['PaymentAuthorized']);
    expect(await simulatorItem(orderId)).toMatchObject({ charges: 1, refunds: 0 });
  });

  it('rejects an order whose payment is declined and gives back its reserved stock', async () => {
    const sku = await givenProduct(call, { stock: 5 });
    const customer = uniqueCustomer();
    const orderId = await placeOrder(customer, sku, { quantity: 2, token: 'tok_declined' });

    const order = await settledOrder(orderId, customer, 'REJECTED');
    expect(order.rejectionReason).toBe('PAYMENT_DECLINED');
    await stockEventually(sku, { available: 5, reserved: 0, sold: 0 });
    // The stock was really reserved, then given back with the rejection.
    expect(await eventTypes(`order-${orderId}`)).toEqual(['OrderPlaced', 'StockReserved', 'OrderRejected']);
    expect(await eventTypes(`payment-${orderId}`)).toEqual(['PaymentDeclined']);
    expect(await simulatorItem(orderId)).toMatchObject({ charges: 0 });
  });

  it('rejects an order for more than the stock as it is placed, naming the short line, holding nothing and starting no saga', async () => {
    const sku = await givenProduct(call, { stock: 2 });
    const plenty = await givenProduct(call, { stock: 10 });
    const customer = uniqueCustomer();
    const answer = await call('POST', '/orders', {
      as: customer,
      body: {
        items: [
          { sku: plenty, quantity: 1 },
          { sku, quantity: 3 },
        ],
        payment: { token: 'tok_visa' },
      },
    });
    expect(answer.status, answer.text).toBe(202);
    // It says why at once, and which line: a client need not read the order again to tell out of stock from a failed
    // payment, nor guess which item of its cart ran out.
    expect(answer.json).toMatchObject({
      orderId: expect.any(String),
      status: 'REJECTED',
      rejectionReason: 'OUT_OF_STOCK',
      outOfStock: [sku],
    });
    const orderId = String(answer.json.orderId);

    const order = await settledOrder(orderId, customer, 'REJECTED');
    expect(order).toMatchObject({ rejectionReason: 'OUT_OF_STOCK', outOfStock: [sku] });
    await stockEventually(sku, { available: 2, reserved: 0, sold: 0 });
    await stockEventually(plenty, { available: 10, reserved: 0, sold: 0 });
    expect(await eventTypes(`order-${orderId}`)).toEqual(['OrderPlaced', 'OrderRejected']);
    // Never got as far as the payment.
    expect(await simulatorItem(orderId)).toBeUndefined();
    expect(await eventTypes(`payment-${orderId}`)).toEqual([]);
  });

  it('confirms a tok_flaky order after retrying the gateway, charging once', async () => {
    const sku = await givenProduct(call, { stock: 4 });
    const customer = uniqueCustomer();
    const orderId = await placeOrder(customer, sku, { quantity: 1, token: 'tok_flaky' });

    await settledOrder(orderId, customer, 'CONFIRMED', 30_000);
    const item = await simulatorItem(orderId);
    expect(item).toMatchObject({ charges: 1, result: { outcome: 'APPROVED' } });
    expect(item?.attempts).toEqual(expect.any(Number));
    expect(Number(item?.attempts)).toBeGreaterThanOrEqual(3);
    expect(await eventTypes(`payment-${orderId}`)).toEqual(['PaymentAuthorized']);
    await stockEventually(sku, { available: 3, reserved: 0, sold: 1 });
  });

  it('cancelling a confirmed order refunds the payment and returns the stock', async () => {
    const sku = await givenProduct(call, { stock: 6 });
    const customer = uniqueCustomer();
    const orderId = await placeOrder(customer, sku, { quantity: 2 });
    await settledOrder(orderId, customer, 'CONFIRMED');
    await stockEventually(sku, { available: 4, reserved: 0, sold: 2 });

    const cancelled = await call('POST', `/orders/${orderId}/cancel`, { as: customer });
    expect(cancelled.status, cancelled.text).toBe(202);

    const order = await settledOrder(orderId, customer, 'CANCELLED');
    expect(order.cancelledAt).toEqual(expect.any(String));
    await eventually(
      () => eventTypes(`payment-${orderId}`),
      (types) => expect(types).toEqual(['PaymentAuthorized', 'PaymentRefunded']),
      { timeoutMs: 20_000, intervalMs: 100 },
    );
    expect(await simulatorItem(orderId)).toMatchObject({ charges: 1, refunds: 1, refunded: true });
    await stockEventually(sku, { available: 6, reserved: 0, sold: 0 });
  });

  it('sells exactly the stock to 50 concurrent orders for 20 units', async () => {
    const sku = await givenProduct(call, { stock: 20 });
    const customers = Array.from({ length: 50 }, () => uniqueCustomer());
    const orderIds = await Promise.all(customers.map((customer) => placeOrder(customer, sku)));
    expect(new Set(orderIds).size).toBe(50);

    const orders = await eventually(
      () => Promise.all(orderIds.map((orderId, index) => readOrder(orderId, customers[index] ?? ''))),
      (read) => {
        const pending = read.filter((order) => !order || !terminal.includes(order.status));
        expect(pending.length).toBe(0);
      },
      { timeoutMs: 60_000, intervalMs: 250 },
    );

    const settled = orders.filter((order): order is Order => order !== undefined);
    const confirmed = settled.filter((order) => order.status === 'CONFIRMED');
    const rejected = settled.filter((order) => order.status === 'REJECTED');
    expect(confirmed).toHaveLength(20);
    expect(rejected).toHaveLength(30);
    expect(rejected.every((order) => order.rejectionReason === 'OUT_OF_STOCK')).toBe(true);
    await stockEventually(sku, { available: 0, reserved: 0, sold: 20 });
  }, 90_000);

  it('running the saga steps twice concurrently authorizes once and ends the same', async () => {
    const { client, store } = localStack();
    const table = inject('environment').PAYMENT_SIMULATOR_TABLE;
    if (!table) throw new Error('no PAYMENT_SIMULATOR_TABLE in the environment');
    const gateway: PaymentGateway = simulatedPaymentGateway({ client, table });
    const sku = await givenProduct(call, { stock: 10 });
    const customer = uniqueCustomer();
    const orderId = await placeOrder(customer, sku, { quantity: 2 });

    const runSaga = async (): Promise<string> => {
      const context: CommandContext = { store: store(), metadata: testMetadata({ actor: 'saga-e2e' }) };
      if ((await authorizePayment(orderId, context, gateway)) === 'STOP') return 'STOP@authorize';
      return confirmOrder(orderId, context);
    };
    // Two more runs, racing each other and the saga the order placement started.
    const outcomes = await Promise.all([runSaga(), runSaga()]);
    for (const outcome of outcomes) expect(['PROCEED', 'STOP@authorize']).toContain(outcome);

    await settledOrder(orderId, customer, 'CONFIRMED');
    await stockEventually(sku, { available: 8, reserved: 0, sold: 2 });
    expect(await eventsFor(`payment-${orderId}`, 'PaymentAuthorized', orderId)).toBe(1);
    expect(await eventTypes(`payment-${orderId}`)).toEqual(['PaymentAuthorized']);
    expect(await eventTypes(`order-${orderId}`)).toEqual(['OrderPlaced', 'StockReserved', 'OrderConfirmed']);
    expect(await simulatorItem(orderId)).toMatchObject({ charges: 1 });
  });
});
