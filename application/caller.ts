/** Who is calling, as established by the token: the customer id is always the token's subject. */
export type Caller = { sub: string; isAdmin: boolean };

/** The `actor` recorded in event metadata. */
export const actorOf = (caller: Caller): string => (caller.isAdmin ? `admin:${caller.sub}` : caller.sub);

/** Whether the caller may see or act on an order of `customerId`. */
export const mayAccess = (caller: Caller, customerId: string): boolean => caller.isAdmin || caller.sub === customerId;
