import { signLink, verifyLink, type LinkClaims } from './tokens.js';

// Status-callback tokens are link tokens signed under a key derived for this one purpose: an
// unsubscribe link (held by the recipient) cannot report delivery statuses, and a callback URL
// (held by the provider) cannot unsubscribe anyone.
const purposeKey = (secret: string) => `${secret}\u0000delivery-status`;

/** The token in a message's status-callback URL. */
export function signDeliveryStatusToken(claims: LinkClaims, secret: string): string {
  return signLink(claims, purposeKey(secret));
}

/** The claims of a valid status-callback token, or null for anything forged, tampered with or of another purpose. */
export function verifyDeliveryStatusToken(token: string, secret: string): LinkClaims | null {
  const claims = verifyLink(token, purposeKey(secret));
  return claims && typeof claims.m === 'string' ? claims : null;
}
