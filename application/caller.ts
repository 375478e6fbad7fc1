/** Who is calling, as established by the token: the customer id is always the token's subject. */
export type Caller = { sub: string; isAdmin: boolean };

/**
 * The `actor` recorded in event metadata. Each kind has its prefix: a customer's subject can be any string, and
 * unprefixed it could read as an admin's (`admin:ops`) or as the saga's or the sweeper's own actor.
 */
export const actorOf = (caller: Caller): string => (caller.isAdmin ? `admin:${caller.sub}` : `customer:${caller.sub}`);

/** Whether the caller may see or act on an order of `customerId`. */
export const mayAccess = (caller: Caller, customerId: string): boolean => caller.isAdmin || caller.sub === customerId;
