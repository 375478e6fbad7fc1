import type { ParkedStream, ParkingLot } from '../../projections/ports.js';

/** The parking lot of parked streams, in memory; `names` lists the lots that hold any. */
export const memoryParkingLot = (): ParkingLot & { names: () => string[] } => {
  const lots = new Map<string, Map<string, ParkedStream>>();
  const lot = (name: string) => lots.get(name) ?? lots.set(name, new Map()).get(name) ?? new Map();
  return {
    parked: async (name, ids) => new Set(ids.filter((id) => lot(name).has(id))),
    park: async (stream) => void lot(stream.projection).set(stream.streamId, stream),
    unpark: async (name, id) => void lot(name).delete(id),
    list: async (name) => [...lot(name).values()],
    names: () => [...lots].filter(([, parked]) => parked.size > 0).map(([name]) => name),
  };
};
