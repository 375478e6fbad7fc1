/**
 * An API Gateway route path (`/orders/{orderId}`, `/files/{path+}`) as a pattern matching what the gateway routes
 * there: each `{param}` one segment, a greedy `{param+}` the rest of the path, everything else literal (the `.` of
 * `/openapi.json` is a dot, not any character). Each parameter is a capture group, in the order of `paramNames`.
 * Zod-free, for the smallest functions (`$default`) as much as for the local stand-in.
 */
export const routePattern = (path: string): { pattern: RegExp; paramNames: string[] } => {
  const paramNames: string[] = [];
  const source = path
    .split(/(\{[^}]+\})/)
    .map((part) => {
      const param = /^\{([^}+]+)(\+?)\}$/.exec(part);
      if (!param) return part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      paramNames.push(param[1] ?? '');
      return param[2] ? '(.+)' : '([^/]+)';
    })
    .join('');
  return { pattern: new RegExp(`^${source}$`), paramNames };
};
