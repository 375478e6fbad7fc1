import { afterEach, describe, expect, it } from 'vitest';
import { createLogger, type LogLevel, REDACTED, tapLine, tapLogs } from '../../../functions/observability/logger.js';

const capture = (level: LogLevel = 'debug', fields: Record<string, unknown> = {}) => {
  const lines: string[] = [];
  const logger = createLogger({ level, fields, sink: (line) => lines.push(line) });
  const parsed = () => lines.map((line) => JSON.parse(line) as Record<string, unknown>);
  return { logger, lines, parsed };
};

const untaps: (() => void)[] = [];
afterEach(() => {
  for (const untap of untaps.splice(0)) untap();
});

describe('logger', () => {
  it('writes one JSON object per line with level, message, base, bound and own fields', () => {
    const { logger, lines, parsed } = capture('debug', { function: 'orderflow-test-placeOrder', stage: 'test' });
    logger.child({ correlationId: 'c-1', orderId: 'o-1' }).info('order placed', { items: 2 });

    expect(lines).toHaveLength(1);
    expect(lines[0]).not.toContain('\n');
    const [line] = parsed();
    expect(line).toEqual({
      timestamp: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/),
      level: 'info',
      message: 'order placed',
      function: 'orderflow-test-placeOrder',
      stage: 'test',
      correlationId: 'c-1',
      orderId: 'o-1',
      items: 2,
    });
  });

  it('lets a child override a bound field without changing its parent', () => {
    const { logger, parsed } = capture('debug', { stage: 'test' });
    const parent = logger.child({ orderId: 'o-1' });
    parent.child({ orderId: 'o-2' }).info('child');
    parent.info('parent');
    expect(parsed().map((line) => line.orderId)).toEqual(['o-2', 'o-1']);
  });

  it.each([
    ['debug', ['debug', 'info', 'warn', 'error']],
    ['info', ['info', 'warn', 'error']],
    ['warn', ['warn', 'error']],
    ['error', ['error']],
    ['silent', []],
  ] as const)('at level %s writes %j', (level, written) => {
    const { logger, parsed } = capture(level);
    logger.debug('d');
    logger.info('i');
    logger.warn('w');
    logger.error('e');
    expect(parsed().map((line) => line.level)).toEqual(written);
  });

  it('serializes errors with their name, message, stack and cause', () => {
    const { logger, parsed } = capture();
    logger.error('failed', { error: new TypeError('outer', { cause: new RangeError('inner') }) });
    const [line] = parsed();
    expect(line?.error).toMatchObject({
      name: 'TypeError',
      message: 'outer',
      stack: expect.stringContaining('TypeError: outer'),
      cause: { name: 'RangeError', message: 'inner' },
    });
  });

  it('keeps an AWS error’s request id and status, for a support case, and none of its other metadata', () => {
    const { logger, parsed } = capture();
    const throttled = Object.assign(new Error('Rate exceeded'), {
      name: 'ThrottlingException',
      $metadata: { requestId: 'R3Q-42', httpStatusCode: 400, attempts: 3, totalRetryDelay: 250 },
    });
    logger.error('failed', { error: throttled });
    expect(parsed()[0]?.error).toEqual({
      name: 'ThrottlingException',
      message: 'Rate exceeded',
      stack: expect.stringContaining('Rate exceeded'),
      serviceRequestId: 'R3Q-42',
      httpStatusCode: 400,
    });
  });

  describe('redaction', () => {
    const token = 'tok_visa_4242_secret';

    it('never writes a payment token, whatever shape it is logged in', () => {
      const { logger, lines } = capture('debug', { stage: 'test' });
      logger.info('placing', { paymentToken: token });
      logger.info('request', { body: { items: [{ sku: 'A', quantity: 1 }], payment: { token } } });
      logger.info('event', { event: { type: 'OrderPlaced', data: { orderId: 'o-1', paymentToken: token } } });
      logger.info('events', { events: [{ data: { paymentToken: token } }, { data: { paymentToken: token } }] });
      logger.child({ token }).warn('bound');
      logger.error('gateway', { error: Object.assign(new Error('declined'), { token }) });
      logger.error('gateway', { error: new Error('wrapped', { cause: { paymentToken: token } }) });

      expect(lines).toHaveLength(7);
      for (const line of lines) expect(line).not.toContain(token);
      expect(lines.join('\n')).toContain(REDACTED);
    });

    it('redacts secret-looking keys at any depth and leaves the rest alone', () => {
      const { logger, parsed } = capture();
      logger.info('headers', {
        headers: { authorization: 'Bearer abc.def.ghi', Cookie: 'session=1', 'x-api-key': 'k', accept: '*/*' },
        client: { clientSecret: 's', password: 'p', credentials: { id: 'x' } },
        orderId: 'o-1',
        sku: 'SKU-1',
        correlationId: 'c-1',
      });
      const [line] = parsed();
      expect(line).toMatchObject({
        headers: { authorization: REDACTED, Cookie: REDACTED, 'x-api-key': REDACTED, accept: '*/*' },
        client: { clientSecret: REDACTED, password: REDACTED, credentials: REDACTED },
        orderId: 'o-1',
        sku: 'SKU-1',
        correlationId: 'c-1',
      });
    });

    it('redacts bearer tokens and JWTs quoted in free text', () => {
      const jwt = 'eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJjdXN0b21lci0xIn0.c2lnbmF0dXJlLWJ5dGVz';
      const { logger, lines } = capture();
      logger.warn(`refused Bearer ${jwt}`, { detail: `token was ${jwt}` });
      expect(lines[0]).not.toContain(jwt);
      expect(JSON.parse(lines[0] ?? '{}')).toMatchObject({
        message: `refused ${REDACTED}`,
        detail: `token was ${REDACTED}`,
      });
    });

    it.each([
      ['after a dash', 'session-'],
      ['after an underscore', 'id_'],
      ['percent-encoded after =', 'cb%3Fid_token%3D'],
      ['after an escaped newline', '\\n'],
      ['after a colon', 'x:'],
    ])('redacts a JWT %s, wherever it starts in a run', (_, prefix) => {
      const jwt = 'eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJjdXN0b21lci0xIn0.c2lnbmF0dXJlLWJ5dGVz';
      const { logger, lines } = capture();
      logger.warn('request answered', { path: `/orders/${prefix}${jwt}/x` });
      expect(lines[0]).not.toContain('eyJzdWIiOiJjdXN0b21lci0xIn0');
      expect(JSON.parse(lines[0] ?? '{}')).toMatchObject({ path: `/orders/${prefix}${REDACTED}/x` });
    });

    it('leaves dotted text without a JWT as it is', () => {
      const { logger, parsed } = capture();
      logger.warn('seen', { file: 'docs/architecture.md', host: 'orderflow-prod-events.eu-west-1.amazonaws.com' });
      expect(parsed()[0]).toMatchObject({
        file: 'docs/architecture.md',
        host: 'orderflow-prod-events.eu-west-1.amazonaws.com',
      });
    });
  });

  describe('taps', () => {
    it('receive lines at their own level, whatever the logger prints, and stop when untapped', () => {
      const tapped: string[] = [];
      const untap = tapLogs((line) => tapped.push(line), 'info');
      untaps.push(untap);
      const { logger, parsed } = capture('warn');

      logger.debug('too fine for both');
      logger.info('only the tap');
      logger.warn('both');
      untap();
      logger.warn('only the sink');

      expect(tapped.map((line) => JSON.parse(line).message)).toEqual(['only the tap', 'both']);
      expect(parsed().map((line) => line.message)).toEqual(['both', 'only the sink']);
    });

    it('are redacted like the sink', () => {
      const tapped: string[] = [];
      untaps.push(tapLogs((line) => tapped.push(line)));
      capture('silent').logger.info('placing', { paymentToken: 'tok_visa' });
      expect(tapped).toHaveLength(1);
      expect(tapped[0]).not.toContain('tok_visa');
    });

    it('receive the lines that are not log events too', () => {
      const tapped: string[] = [];
      untaps.push(tapLogs((line) => tapped.push(line)));
      tapLine('{"_aws":{}}');
      expect(tapped).toEqual(['{"_aws":{}}']);
    });
  });
});
