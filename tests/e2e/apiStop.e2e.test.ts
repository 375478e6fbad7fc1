import { connect } from 'node:net';
import { describe, expect, it } from 'vitest';
import { startTestApi } from '../support/api.js';

/** A raw connection to the API, and everything it receives until the server ends it. */
const connection = (port: number) => {
  const socket = connect(port, '127.0.0.1');
  const received = new Promise<string>((resolve, reject) => {
    let text = '';
    socket.on('data', (chunk: Buffer) => (text += chunk.toString()));
    // The server ends the connection itself: a client keeping it alive would otherwise send its next request to a
    // stopping server, which went on answering them until its bound was up.
    socket.once('end', () => resolve(text));
    socket.once('error', reject);
  });
  return { socket, received };
};

/**
 * A placement in flight when the API begins to stop: its head and the first 10 bytes of its body sent, the stop begun,
 * then the rest of the body and `behind` (a request sent after it on the same connection) sent.
 */
const stopDuringPlacement = async (sku: string, behind = '', { restAfterMs = 0 } = {}) => {
  const { api } = await startTestApi();
  const { socket, received } = connection(api.port);
  const body = JSON.stringify({ items: [{ sku, quantity: 1 }], payment: { token: 'tok_visa' } });
  socket.write(
    `POST /orders HTTP/1.1\r\nhost: x\r\nconnection: keep-alive\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\n\r\n${body.slice(0, 10)}`,
  );
  // The stop begins once the server has read the placement's head: the request is then in flight, not an idle
  // connection's next one (waiting for it, not a fixed time, holds on a loaded machine too).
  while (api.received() < 1) await new Promise((resolve) => setTimeout(resolve, 5));
  const stopped = api.close();
  if (restAfterMs > 0) await new Promise((resolve) => setTimeout(resolve, restAfterMs));
  socket.write(`${body.slice(10)}${behind}`);
  return { socket, received, stopped };
};

describe('the local API stopping', () => {
  it('answers a request in flight when the stop begins, and closes its kept-alive connection with the answer', async () => {
    const { socket, received: answer, stopped } = await stopDuringPlacement('STOP-1');
    try {
      const received = await answer;
      // Answered (401: no token), and told the connection closes.
      expect(received.split('\r\n')[0]).toBe('HTTP/1.1 401 Unauthorized');
      expect(received).toMatch(/\r\nconnection: close\r\n/i);
      await stopped;
    } finally {
      socket.destroy();
    }
  });

  it('answers a request still in flight 11 s after the stop: longer than a route’s function may run (10 s)', async () => {
    // The rest of the body comes 11 s after the stop began, later than any answer of a function that ran its whole
    // timeout: the stop waits for it.
    const { socket, received: answer, stopped } = await stopDuringPlacement('STOP-3', '', { restAfterMs: 11_000 });
    try {
      expect((await answer).split('\r\n')[0]).toBe('HTTP/1.1 401 Unauthorized');
      await stopped;
    } finally {
      socket.destroy();
    }
  }, 40_000);

  it('answers a request sent behind the one in flight too, and closes the connection with the last answer', async () => {
    // A second request behind the placement on the same connection (pipelined).
    const {
      socket,
      received: answer,
      stopped,
    } = await stopDuringPlacement('STOP-2', 'GET /openapi.json HTTP/1.1\r\nhost: x\r\n\r\n');
    try {
      const received = await answer;
      const statusLines = received.match(/HTTP\/1\.1 \d{3} [A-Za-z ]+(?=\r\n)/g);
      expect(statusLines).toEqual(['HTTP/1.1 401 Unauthorized', 'HTTP/1.1 200 OK']);
      // Only the last answer closes the connection.
      expect(received.match(/\r\nconnection: close\r\n/gi)).toHaveLength(1);
      expect(received.lastIndexOf('connection: close')).toBeGreaterThan(received.indexOf('HTTP/1.1 200 OK'));
      await stopped;
    } finally {
      socket.destroy();
    }
  });
});
