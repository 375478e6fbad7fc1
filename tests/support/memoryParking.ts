import type { CompensationParking } from '../../application/saga.js';

/** Parks in memory, as the compensation state machine does: once per order and kind of compensation. */
export const memoryParking = () => {
  const parked: Parameters<CompensationParking['park']>[0][] = [];
  const parking: CompensationParking = {
    park: async (request) => {
      if (parked.some((p) => p.orderId === request.orderId && p.kind === request.kind)) return false;
      parked.push(request);
      return true;
    },
  };
  return { parking, parked };
};
