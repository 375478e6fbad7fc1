import type { Money } from '../shared/values.js';

export type PaymentState =
  | { status: 'NONE' }
  | { status: 'AUTHORIZED' | 'REFUNDED'; orderId: string; amount: Money; gatewayReference: string }
  | { status: 'DECLINED'; orderId: string; amount: Money; reason: string };

export const initialState = (): PaymentState => ({ status: 'NONE' });
