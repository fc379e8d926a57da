import { createHmac, timingSafeEqual } from 'node:crypto';

/** What a public link (unsubscribe, ...) acts on; signed so nobody can forge one for another contact. */
export interface LinkClaims {
  /** workspace id */
  w: string;
  /** contact id */
  c: string;
  /** channel */
  ch: string;
  /** message id */
  m: string;
}

export function signLink(claims: LinkClaims, secret: string): string {
  const body = Buffer.from(JSON.stringify(claims)).toString('base64url');
  return `${body}.${mac(body, secret)}`;
}

/** The claims of a valid token, or null for anything tampered with or malformed. */
export function verifyLink(token: string, secret: string): LinkClaims | null {
  const [body, signature] = token.split('.');
  if (!body || !signature) return null;
  const expected = Buffer.from(mac(body, secret));
  const given = Buffer.from(signature);
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) return null;
  try {
    const claims = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as LinkClaims;
    return typeof claims.w === 'string' && typeof claims.c === 'string' && typeof claims.ch === 'string' ? claims : null;
  } catch {
    return null;
  }
}

function mac(body: string, secret: string): string {
  return createHmac('sha256', secret).update(`campaignos-link:${body}`).digest('base64url');
}
