/**
 * The public email links (SPEC §8), no key: the signed token is the authority. A token that does not
 * verify (or of another kind) answers 404 and changes nothing. Events are committed before the
 * answer, then the dispatcher is kicked so they reach waiting executions and start workflows at once.
 */
import type { Response } from 'express';
import { emailLinks, type EmailLinks, type LinkPayload } from '../../email-links/tokens';
import { escapeHtml } from '../../core/render';
import { setSubscription } from '../../db/contacts';
import { recordClick, recordOpen } from '../../db/email-engagement';
import * as api from '../contracts/email-links';
import type { ApiDeps } from '../deps';
import { notFound } from '../errors';
import { route, type Route } from '../routing';

/** A transparent 1×1 GIF. */
const PIXEL = Buffer.from('R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7', 'base64');

export function emailLinkRoutes({ database, dispatcher, config }: ApiDeps): Route[] {
  const { db } = database;

  async function verify<K extends LinkPayload['kind']>(token: unknown, kind: K): Promise<{ links: EmailLinks; payload: Extract<LinkPayload, { kind: K }> }> {
    const links = await emailLinks(database, config.publicUrl);
    const payload = typeof token === 'string' ? links.read(token) : undefined;
    if (payload?.kind !== kind) throw notFound('link');
    return { links, payload: payload as Extract<LinkPayload, { kind: K }> };
  }

  /** Sets the contact's subscription (recording the change, if any) and shows the confirmation page. */
  async function setSubscribed(token: unknown, subscribed: boolean, res: Response): Promise<void> {
    const { links, payload } = await verify(token, subscribed ? 'subscribe' : 'unsubscribe');
    const changed = await setSubscription(db, payload.contactId, subscribed);
    // The contact was erased: its links went with it.
    if (changed === undefined) throw notFound('link');
    if (changed) dispatcher.kick();
    const page = subscribed
      ? confirmation('You are subscribed', 'You will receive our emails again.', 'Changed your mind?', links.unsubscribeUrl(payload.contactId), 'Unsubscribe')
      : confirmation(
          'You are unsubscribed',
          'You will no longer receive our marketing emails.',
          'Unsubscribed by mistake?',
          links.subscribeUrl(payload.contactId),
          'Subscribe again',
        );
    privateAnswer(res).status(200).type('html').send(page);
  }

  return [
    route(api.unsubscribe, ({ params, res }) => setSubscribed(params.token, false, res)),
    // One-click unsubscribe (RFC 8058): mail providers POST `List-Unsubscribe=One-Click`; the body is not needed.
    route(api.unsubscribeOneClick, ({ params, res }) => setSubscribed(params.token, false, res)),
    route(api.subscribe, ({ params, res }) => setSubscribed(params.token, true, res)),

    route(api.trackOpen, async ({ params, res }) => {
      const { payload } = await verify(params.token, 'open');
      const recorded = await db.transaction((tx) => recordOpen(tx, payload.emailId));
      if (recorded) dispatcher.kick();
      privateAnswer(res).status(200).type('image/gif').send(PIXEL);
    }),

    route(api.trackClick, async ({ params, res }) => {
      const { payload } = await verify(params.token, 'click');
      const { emailId, url } = payload;
      const recorded = await db.transaction((tx) => recordClick(tx, emailId, url));
      if (recorded) dispatcher.kick();
      // Exactly the signed URL (res.redirect would re-encode it); only characters a header cannot
      // carry are percent-encoded, as a browser would request them anyway.
      const location = url.replace(/[^\x21-\x7e]/gu, (c) => encodeURIComponent(c));
      privateAnswer(res).status(302).setHeader('Location', location).end();
    }),
  ];
}

/** Never cached (every fetch must reach us) and never leaking the token through Referer. */
function privateAnswer(res: Response): Response {
  return res.set({ 'Cache-Control': 'no-store', 'Referrer-Policy': 'no-referrer', 'X-Robots-Tag': 'noindex' });
}

function confirmation(title: string, message: string, question: string, href: string, action: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>body{font-family:system-ui,sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem;color:#111827}p{color:#4b5563}a{color:#2563eb}</style>
</head><body>
<h1>${escapeHtml(title)}</h1>
<p>${escapeHtml(message)}</p>
<p>${escapeHtml(question)} <a href="${escapeHtml(href)}">${escapeHtml(action)}</a></p>
</body></html>
`;
}
