import express, { Router } from 'express';
import { verifyLink } from '../../send-gate/tokens.js';
import type { Store } from '../../store/index.js';

const page = (title: string, body: string) =>
  `<!doctype html><html><head><meta charset="utf-8"><meta name="viewport" content="width=device-width"><title>${title}</title></head>` +
  `<body style="font-family:sans-serif;max-width:32rem;margin:4rem auto">${body}</body></html>`;

/**
 * Public, unauthenticated endpoints reached from messages. Links carry signed tokens.
 * GET shows a page (mail scanners follow links, so GET never unsubscribes); POST unsubscribes,
 * both for the page's button and for RFC 8058 one-click (`List-Unsubscribe=One-Click`).
 */
export function publicRoutes(store: Store, secret: string): Router {
  const router = Router();
  router.use(express.urlencoded({ extended: false, limit: '4kb' }));

  router.get('/u/:token', (req, res) => {
    const claims = verifyLink(req.params.token, secret);
    if (!claims) return void res.status(400).type('html').send(page('Invalid link', '<p>This unsubscribe link is invalid or damaged.</p>'));
    res.type('html').send(
      page(
        'Unsubscribe',
        `<p>Stop receiving ${claims.ch} messages from us?</p><form method="post"><button type="submit">Unsubscribe</button></form>`,
      ),
    );
  });

  router.post('/u/:token', async (req, res) => {
    const claims = verifyLink(req.params.token, secret);
    if (!claims) return void res.status(400).type('html').send(page('Invalid link', '<p>This unsubscribe link is invalid or damaged.</p>'));
    const contact = await store.contacts.get(claims.w, claims.c);
    if (contact) {
      const oneClick = (req.body as Record<string, unknown> | undefined)?.['List-Unsubscribe'] === 'One-Click';
      await store.messages.suppress(claims.w, claims.c, claims.ch, oneClick ? 'unsubscribed (one-click)' : 'unsubscribed');
    }
    res.type('html').send(page('Unsubscribed', `<p>You will not receive ${claims.ch} messages from us any more.</p>`));
  });

  return router;
}
