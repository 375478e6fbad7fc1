import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ClientAnswer, type HttpClients, startHttpClients } from '../../../bench/httpClients.js';

const bodyOf = async (request: IncomingMessage) => {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
};

describe("a bench's HTTP clients in a process of their own", () => {
  // A server that answers 503 to each key's first request and 202 to the next, echoing what it was sent; and counts
  // how many requests it had in flight at once.
  const seen = new Map<string, number>();
  let inFlight = 0;
  let mostInFlight = 0;
  const server = createServer(async (request, response) => {
    inFlight += 1;
    mostInFlight = Math.max(mostInFlight, inFlight);
    const body = await bodyOf(request);
    await new Promise((resolve) => setTimeout(resolve, 5));
    const key = String(request.headers['idempotency-key']);
    const times = (seen.get(key) ?? 0) + 1;
    seen.set(key, times);
    inFlight -= 1;
    response.writeHead(times === 1 ? 503 : 202, { 'content-type': 'application/json' });
    response.end(JSON.stringify({ key, times, authorization: request.headers.authorization, body: JSON.parse(body) }));
  });
  let clients: HttpClients;

  beforeAll(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    clients = startHttpClients(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
  });
  afterAll(async () => {
    clients.stop();
    await new Promise((resolve) => server.close(resolve));
  });

  it('sends every request, a few at a time, again after a 5xx, and answers each in order', async () => {
    const streamed: ClientAnswer[] = [];
    const requests = Array.from({ length: 12 }, (_, i) => ({
      method: 'POST' as const,
      path: '/orders',
      token: `token-${i}`,
      body: { n: i },
      headers: { 'idempotency-key': `key-${i}` },
    }));
    const answers = await clients.run(requests, { clients: 3, onAnswer: (answer) => streamed.push(answer) });

    expect(clients.pid).not.toBe(process.pid);
    expect(answers.map((a) => [a.index, a.status, a.statuses])).toEqual(requests.map((_, i) => [i, 202, [503, 202]]));
    expect(answers.map((a) => a.json)).toEqual(
      requests.map((_, i) => ({ key: `key-${i}`, times: 2, authorization: `Bearer token-${i}`, body: { n: i } })),
    );
    expect(streamed).toHaveLength(12);
    expect(mostInFlight).toBeGreaterThan(1);
    expect(mostInFlight).toBeLessThanOrEqual(3);
    expect(answers.every((a) => a.latencyMs > 0)).toBe(true);
  });

  it('gives up after its attempts, with the last answer, and says when there was none', async () => {
    const [once] = await clients.run(
      [{ method: 'POST', path: '/x', token: 't', body: {}, headers: { 'idempotency-key': 'only-once' } }],
      { clients: 1, attempts: 1 },
    );
    expect(once).toMatchObject({ status: 503, statuses: [503] });

    const nowhere = startHttpClients('http://127.0.0.1:1');
    try {
      const [none] = await nowhere.run([{ method: 'GET', path: '/', token: 't' }], { clients: 1, attempts: 2 });
      expect(none).toMatchObject({ status: 0, statuses: [0, 0] });
    } finally {
      nowhere.stop();
    }
  });

  it('refuses a run once its process is gone, and rejects one whose process dies meanwhile, without crashing', async () => {
    const gone = startHttpClients('http://127.0.0.1:1');
    gone.stop();
    await expect
      .poll(() => {
        try {
          process.kill(gone.pid, 0);
          return 'alive';
        } catch {
          return 'gone';
        }
      })
      .toBe('gone');
    await expect(gone.run([{ method: 'GET', path: '/', token: 't' }], { clients: 1 })).rejects.toThrow(
      /process is gone|exited/,
    );

    // A server that never answers: the run is in flight when the process is killed.
    const silent = createServer(() => undefined);
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const dying = startHttpClients(`http://127.0.0.1:${(silent.address() as AddressInfo).port}`);
    try {
      const running = dying.run([{ method: 'GET', path: '/', token: 't' }], { clients: 1 });
      setTimeout(() => dying.stop(), 500);
      await expect(running).rejects.toThrow(/exited/);
    } finally {
      silent.closeAllConnections();
      await new Promise((resolve) => silent.close(resolve));
    }
  });
});
