import { describe, expect, it } from 'vitest';
import { ADMIN_SCOPE } from '../../../api/routes.js';
import { scopesOf } from '../../../functions/http/middlewares.js';

describe('the scopes a function reads from the token', () => {
  it('splits a space-separated claim as the gateway does', () => {
    expect(scopesOf({ scope: `openid ${ADMIN_SCOPE}` })).toEqual(['openid', ADMIN_SCOPE]);
    expect(scopesOf({ scope: 'aws.cognito.signin.user.admin read:orders' })).toEqual([
      'aws.cognito.signin.user.admin',
      'read:orders',
    ]);
  });

  it.each([
    // An object claim, as the local gateway renders it and as a Java map renders it.
    `{"x":"a ${ADMIN_SCOPE} b"}`,
    `{x=a ${ADMIN_SCOPE} b}`,
    // A list, rendered "[a b c]" (or cut short).
    `[a ${ADMIN_SCOPE} b]`,
    `[a ${ADMIN_SCOPE}`,
    // A token RFC 6749 does not allow anywhere in the claim: a quote, a backslash, a tab, a no-break space.
    `a"b ${ADMIN_SCOPE}`,
    `a\\b ${ADMIN_SCOPE}`,
    `openid\t${ADMIN_SCOPE}`,
    `openid\u00a0x ${ADMIN_SCOPE}`,
  ])('grants nothing from %j, whose inner words would split out clean', (scope) => {
    expect(scopesOf({ scope })).toEqual([]);
  });

  it('grants nothing from a claim that is not text', () => {
    for (const scope of [undefined, 42, [ADMIN_SCOPE], { scope: ADMIN_SCOPE }]) expect(scopesOf({ scope })).toEqual([]);
  });
});
