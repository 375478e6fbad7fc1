import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  calculateJwkThumbprint,
  exportJWK,
  generateKeyPair,
  importJWK,
  type JWK,
  type JWTPayload,
  jwtVerify,
  SignJWT,
} from 'jose';
import { ADMIN_SCOPE } from '../api/routes.js';
import { privateFolder } from './paths.js';
import type { ServerlessConfig } from './serverlessConfig.js';

// API Gateway's JWT authorizer checks signatures of RSA-based algorithms only, with the key of the JWKS that the token's
// `kid` names: the local one signs and checks the same way.
const ALGORITHM = 'RS256';

/** Signs and verifies tokens as the stage's identity provider would: same issuer, same audience. */
export type LocalIssuer = {
  issuer: string;
  audience: string;
  /** The signing key's id (its JWK thumbprint), which every token names in its `kid` header. */
  keyId: string;
  /**
   * `expiresIn: false` signs a token without exp, which no provider should issue: for tests of the verifier.
   * `scope` sets the claim as given, a list staying a list and an object an object, as some providers send it (or let
   * a user shape it); otherwise it is `scopes` space-separated.
   */
  sign(
    sub: string,
    options?: {
      admin?: boolean;
      expiresIn?: string | false;
      scopes?: string[];
      scope?: string | string[] | Record<string, string>;
    },
  ): Promise<string>;
  verify(token: string): Promise<JWTPayload>;
};

type KeyPair = Awaited<ReturnType<typeof generateKeyPair>>;
type Key = KeyPair['privateKey'];

/** The issuer and audience that serverless.yml gives the HTTP API's JWT authorizer for this stage. */
export const jwtSettings = (config: ServerlessConfig): { issuer: string; audience: string } => {
  const authorizers = (
    config.provider.httpApi as
      { authorizers?: Record<string, { issuerUrl?: string; audience?: string[] | string }> } | undefined
  )?.authorizers;
  const jwt = authorizers?.jwt;
  // `sls print` resolves a one-element list to its element: the audience may come as a string (whose [0] is its first
  // letter) or as the list the template deploys.
  const audience = Array.isArray(jwt?.audience) ? jwt.audience[0] : jwt?.audience;
  if (!jwt?.issuerUrl || !audience)
    throw new Error('serverless.yml declares no jwt authorizer with an issuer and audience');
  return { issuer: jwt.issuerUrl, audience };
};

const loadOrCreateKeys = async (keyDir: string | undefined): Promise<KeyPair & { keyId: string }> => {
  const file = keyDir ? join(keyDir, 'signing-key.jwk.json') : undefined;
  const saved = file ? await readFile(file, 'utf8').catch(() => undefined) : undefined;
  const keys = saved ? (JSON.parse(saved) as { privateJwk: JWK; publicJwk: JWK }) : undefined;
  // A key an earlier version made (ES256) is replaced: its tokens, an hour's at most, are refused from then on.
  if (keys?.publicJwk.kty === 'RSA') {
    return {
      privateKey: (await importJWK(keys.privateJwk, ALGORITHM)) as Key,
      publicKey: (await importJWK(keys.publicJwk, ALGORITHM)) as Key,
      keyId: await calculateJwkThumbprint(keys.publicJwk),
    };
  }
  const pair = await generateKeyPair(ALGORITHM, { extractable: true });
  const publicJwk = await exportJWK(pair.publicKey);
  if (file && keyDir) {
    // Made before any npm start may have made .local private: the key folder (and .local, if new) are this user's.
    await privateFolder(keyDir);
    await writeFile(file, JSON.stringify({ privateJwk: await exportJWK(pair.privateKey), publicJwk }), { mode: 0o600 });
  }
  return { ...pair, keyId: await calculateJwkThumbprint(publicJwk) };
};

/**
 * The local stand-in for the identity provider. With `keyDir` the signing key is kept there, so `npm run token`
 * and `npm start` agree; without it the key lives only in memory (tests).
 */
export const localIssuer = async ({
  issuer,
  audience,
  keyDir,
}: {
  issuer: string;
  audience: string;
  keyDir?: string;
}): Promise<LocalIssuer> => {
  const { privateKey, publicKey, keyId } = await loadOrCreateKeys(keyDir);
  return {
    issuer,
    audience,
    keyId,
    sign: (sub, { admin = false, expiresIn = '1h', scopes = [], scope } = {}) => {
      const token = new SignJWT({ scope: scope ?? [...scopes, ...(admin ? [ADMIN_SCOPE] : [])].join(' ') })
        .setProtectedHeader({ alg: ALGORITHM, kid: keyId })
        .setSubject(sub)
        .setIssuer(issuer)
        .setAudience(audience)
        .setIssuedAt();
      return (expiresIn === false ? token : token.setExpirationTime(expiresIn)).sign(privateKey);
    },
    // API Gateway's JWT authorizer wants an exp after now (and an nbf, if any, before it): a token without exp is
    // refused there, so here too.
    verify: async (token) => {
      // The key is looked up by the token's `kid`, as in the issuer's JWKS: a token that names none is refused.
      const keyNamed = ({ kid }: { kid?: string }) => {
        if (kid !== keyId) throw new Error(kid === undefined ? 'the token names no kid' : `no key ${kid}`);
        return publicKey;
      };
      const { payload } = await jwtVerify(token, keyNamed, {
        issuer,
        algorithms: [ALGORITHM],
        requiredClaims: ['exp'],
      });
      // As API Gateway checks them: `aud`, or for a token without one (a Cognito access token) `client_id`, names
      // the audience; and `iat`, if there is one, is past.
      const audiences = payload.aud === undefined ? [payload.client_id] : [payload.aud].flat();
      if (!audiences.includes(audience)) throw new Error('neither aud nor client_id names the audience');
      if (payload.iat !== undefined && payload.iat * 1000 > Date.now()) throw new Error('the iat claim is not past');
      // RFC 7519 makes sub a string: 123, "123" and null would otherwise all become customer "123" or "null".
      if (payload.sub !== undefined && typeof payload.sub !== 'string')
        throw new Error('the sub claim is not a string');
      return payload;
    },
  };
};
