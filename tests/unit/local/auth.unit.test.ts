import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportJWK, generateKeyPair, importJWK, type JWK, SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { localIssuer } from '../../../local/auth.js';

/**
 * A local issuer with its key in a fresh folder, and a signer of any claims with that key (the issuer's own `sign`
 * makes only well-formed tokens); the folder goes when `use` is done.
 */
const withIssuer = async (
  use: (
    issuer: Awaited<ReturnType<typeof localIssuer>>,
    signed: (claims: Record<string, unknown>) => Promise<string>,
    key: Awaited<ReturnType<typeof importJWK>>,
  ) => Promise<void>,
) => {
  const root = await mkdtemp(join(tmpdir(), 'orderflow-auth-'));
  try {
    const keyDir = join(root, 'jwt');
    const issuer = await localIssuer({ issuer: 'https://orderflow.local/', audience: 'orderflow-local', keyDir });
    const { privateJwk } = JSON.parse(await readFile(join(keyDir, 'signing-key.jwk.json'), 'utf8')) as {
      privateJwk: JWK;
    };
    const key = await importJWK(privateJwk, 'RS256');
    await use(
      issuer,
      (claims) =>
        new SignJWT(claims)
          .setProtectedHeader({ alg: 'RS256', kid: issuer.keyId })
          .setIssuer(issuer.issuer)
          .setExpirationTime('1h')
          .sign(key),
      key,
    );
  } finally {
    await rm(root, { recursive: true, force: true });
  }
};

describe('the local identity provider', () => {
  it('keeps its signing key for this user only, in folders it makes private even before any npm start', async () => {
    const root = await mkdtemp(join(tmpdir(), 'orderflow-auth-'));
    try {
      // `npm run token` on a fresh clone: neither .local nor .local/jwt exists yet.
      const state = join(root, '.local');
      const keyDir = join(state, 'jwt');
      const issuer = await localIssuer({ issuer: 'https://orderflow.local/', audience: 'orderflow-local', keyDir });
      for (const folder of [state, keyDir]) expect((await stat(folder)).mode & 0o777, folder).toBe(0o700);
      expect((await stat(join(keyDir, 'signing-key.jwk.json'))).mode & 0o777).toBe(0o600);
      // Kept: a second start signs with the same key, so tokens made before still verify.
      const again = await localIssuer({ issuer: issuer.issuer, audience: issuer.audience, keyDir });
      expect(await again.verify(await issuer.sign('alice'))).toMatchObject({ sub: 'alice' });
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });

  it("refuses a token whose sub is not a string, which would become another customer's id as text", () =>
    withIssuer(async (issuer, signed) => {
      const withSub = (sub: unknown) => signed({ sub, aud: issuer.audience });
      for (const sub of [123, null, { id: 'alice' }, true]) {
        await expect(issuer.verify(await withSub(sub)), JSON.stringify(sub)).rejects.toThrow();
      }
      expect(await issuer.verify(await withSub('123'))).toMatchObject({ sub: '123' });
    }));

  it('checks aud, or client_id where there is no aud, and an iat in the past, as API Gateway does', () =>
    withIssuer(async (issuer, signed) => {
      const alice = (claims: Record<string, unknown>) => signed({ sub: 'alice', ...claims });
      const now = Math.floor(Date.now() / 1000);
      // A Cognito access token names its app client in client_id, and has no aud.
      expect(await issuer.verify(await alice({ client_id: 'orderflow-local' }))).toMatchObject({ sub: 'alice' });
      expect(await issuer.verify(await alice({ aud: ['other', 'orderflow-local'], iat: now - 5 }))).toMatchObject({
        sub: 'alice',
      });
      for (const claims of [
        {},
        { client_id: 'other' },
        { aud: 'other', client_id: 'orderflow-local' },
        { aud: 'orderflow-local', iat: now + 600 },
      ]) {
        await expect(issuer.verify(await alice(claims)), JSON.stringify(claims)).rejects.toThrow();
      }
    }));

  it('signs RS256 with the kid of its key, and refuses a token that names no kid, another, or another algorithm, as API Gateway does', () =>
    withIssuer(async (issuer, _signed, ours) => {
      const token = await issuer.sign('alice');
      const header = JSON.parse(Buffer.from(token.split('.')[0] ?? '', 'base64url').toString()) as object;
      expect(header).toEqual({ alg: 'RS256', kid: issuer.keyId });
      expect(await issuer.verify(token)).toMatchObject({ sub: 'alice' });

      const claims = { sub: 'alice', aud: issuer.audience };
      const sign = async (protectedHeader: { alg: string; kid?: string }, key: Parameters<SignJWT['sign']>[0]) =>
        new SignJWT(claims)
          .setProtectedHeader(protectedHeader)
          .setIssuer(issuer.issuer)
          .setExpirationTime('1h')
          .sign(key);
      const rsa = (await generateKeyPair('RS256')).privateKey;
      const ec = (await generateKeyPair('ES256')).privateKey;
      const forged = {
        // Signed with the very key, so only the kid check refuses them, as API Gateway finds no key for them.
        'our key, no kid': await sign({ alg: 'RS256' }, ours),
        'our key, another kid': await sign({ alg: 'RS256', kid: 'another' }, ours),
        'no kid': await sign({ alg: 'RS256' }, rsa),
        'another kid': await sign({ alg: 'RS256', kid: 'another' }, rsa),
        'our kid, another key': await sign({ alg: 'RS256', kid: issuer.keyId }, rsa),
        'our kid, ES256': await sign({ alg: 'ES256', kid: issuer.keyId }, ec),
      };
      for (const [name, forgery] of Object.entries(forged)) {
        await expect(issuer.verify(forgery), name).rejects.toThrow();
      }
    }));

  it('replaces a key an earlier version kept (ES256) with an RSA one', async () => {
    const root = await mkdtemp(join(tmpdir(), 'orderflow-auth-'));
    try {
      const keyDir = join(root, 'jwt');
      await mkdir(keyDir, { recursive: true });
      const old = await generateKeyPair('ES256', { extractable: true });
      const file = join(keyDir, 'signing-key.jwk.json');
      await writeFile(
        file,
        JSON.stringify({ privateJwk: await exportJWK(old.privateKey), publicJwk: await exportJWK(old.publicKey) }),
      );
      const issuer = await localIssuer({ issuer: 'https://orderflow.local/', audience: 'orderflow-local', keyDir });
      expect(await issuer.verify(await issuer.sign('alice'))).toMatchObject({ sub: 'alice' });
      const { publicJwk } = JSON.parse(await readFile(file, 'utf8')) as { publicJwk: JWK };
      expect(publicJwk.kty).toBe('RSA');
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});
