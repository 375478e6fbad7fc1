/** One request a bench's client sends: what every client of the API here sends, once. */
export type ApiRequest = {
  method: string;
  path: string;
  token: string;
  body?: unknown;
  headers?: Record<string, string>;
};

/** Its answer: the status (0 when there was none at all, a broken connection) and the JSON body, `{}` if none. */
export type ApiAnswer = { status: number; json: Record<string, unknown> };

/** Sends a request once to the API at `url`; never throws: under load a refusal is a figure, not a crash. */
export const requestOnce = async (
  url: string,
  { method, path, token, body, headers }: ApiRequest,
): Promise<ApiAnswer> => {
  try {
    const response = await fetch(`${url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...headers,
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: response.status, json: (await response.json().catch(() => ({}))) as Record<string, unknown> };
  } catch {
    return { status: 0, json: {} };
  }
};

/** How long a careful client waits before its next attempt: jittered, doubling, at most 2 s. */
export const retryDelayMs = (attempt: number): number => Math.random() * Math.min(2000, 50 * 2 ** attempt);
