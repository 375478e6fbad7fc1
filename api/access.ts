// Apart from the route table (api/routes.ts), which builds zod schemas: the HTTP stack's authorizer reads only these.

/** Who may call a route: anyone, any signed-in customer, or a caller with the admin scope. */
export type Access = 'public' | 'customer' | 'admin';

export const ADMIN_SCOPE = 'orderflow/admin';
