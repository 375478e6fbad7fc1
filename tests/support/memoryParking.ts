import type { CompensationParking } from '../../application/saga.js';

/** Parks in memory, as the compensation state machine does: once per order, by its id. */
export const memoryParking = () => {
  const parked: { orderId: string; correlationId: string }[] = [];
  const parking: CompensationParking = {
    park: async (request) => {
      if (parked.some((p) => p.orderId === request.orderId)) return false;
      parked.push(request);
      return true;
    },
  };
  return { parking, parked };
};
