import { describe, expect, it } from 'vitest';
import { EmailLinks } from '../../email-links/tokens';

const CONTACT = '0b6f3c1e-8a2d-4f5e-9c7b-1d2e3f4a5b6c';
const EMAIL = '5e4d3c2b-1a09-8f7e-a6d5-c4b3a2918070';
const links = new EmailLinks(Buffer.alloc(32, 1), 'https://mail.example.com');
const other = new EmailLinks(Buffer.alloc(32, 2), 'https://mail.example.com');

/** The token at the end of a link. */
const tokenOf = (url: string) => url.slice(url.lastIndexOf('/') + 1);

describe('email link tokens', () => {
  it('puts each kind of link under PUBLIC_URL and reads back exactly what it signed', () => {
    const unsubscribe = links.unsubscribeUrl(CONTACT);
    const subscribe = links.subscribeUrl(CONTACT);
    const open = links.openUrl(EMAIL);
    const click = links.clickUrl(EMAIL, 'https://shop.example/sale?a=1&b=ü#top');
    expect(unsubscribe).toMatch(/^https:\/\/mail\.example\.com\/unsubscribe\/[A-Za-z0-9_-]+$/);
    expect(subscribe).toMatch(/^https:\/\/mail\.example\.com\/subscribe\/[A-Za-z0-9_-]+$/);
    expect(open).toMatch(/^https:\/\/mail\.example\.com\/t\/o\/[A-Za-z0-9_-]+$/);
    expect(click).toMatch(/^https:\/\/mail\.example\.com\/t\/c\/[A-Za-z0-9_-]+$/);

    expect(links.read(tokenOf(unsubscribe))).toEqual({ kind: 'unsubscribe', contactId: CONTACT });
    expect(links.read(tokenOf(subscribe))).toEqual({ kind: 'subscribe', contactId: CONTACT });
    expect(links.read(tokenOf(open))).toEqual({ kind: 'open', emailId: EMAIL });
    expect(links.read(tokenOf(click))).toEqual({ kind: 'click', emailId: EMAIL, url: 'https://shop.example/sale?a=1&b=ü#top' });
  });

  it('does not reveal the contact id, in any encoding', () => {
    const token = tokenOf(links.unsubscribeUrl(CONTACT));
    const compact = CONTACT.replace(/-/g, '');
    const decoded = Buffer.from(token, 'base64url');
    expect(token).not.toContain(CONTACT);
    expect(decoded.toString('latin1')).not.toContain(CONTACT);
    expect(decoded.toString('hex')).not.toContain(compact);
    expect(decoded.includes(Buffer.from(compact, 'hex'))).toBe(false);
  });

  it('gives the same link a different token each time, each of which verifies', () => {
    const a = tokenOf(links.openUrl(EMAIL));
    const b = tokenOf(links.openUrl(EMAIL));
    expect(a).not.toBe(b);
    expect(links.read(a)).toEqual(links.read(b));
  });

  it('accepts a token in exactly one spelling: no other last character decodes to it', () => {
    for (const token of [tokenOf(links.unsubscribeUrl(CONTACT)), tokenOf(links.clickUrl(EMAIL, 'https://shop.example/x'))]) {
      const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
      const accepted = [...alphabet].filter((c) => links.read(token.slice(0, -1) + c) !== undefined);
      expect(accepted).toEqual([token.at(-1)]);
    }
  });

  it('refuses every altered, truncated, extended or foreign token', () => {
    const token = tokenOf(links.clickUrl(EMAIL, 'https://shop.example/'));
    const raw = Buffer.from(token, 'base64url');
    for (let i = 0; i < raw.length; i++) {
      const flipped = Buffer.from(raw);
      flipped[i] = flipped[i]! ^ 0x01;
      expect(links.read(flipped.toString('base64url')), `byte ${i} flipped`).toBeUndefined();
    }
    expect(links.read(token.slice(0, -1))).toBeUndefined();
    expect(links.read(raw.subarray(0, raw.length - 1).toString('base64url'))).toBeUndefined();
    expect(links.read(`${token}AA`)).toBeUndefined();
    expect(links.read(`${token}A`)).toBeUndefined();
    expect(links.read(`${token}=`)).toBeUndefined();
    expect(links.read('')).toBeUndefined();
    expect(links.read('not a token')).toBeUndefined();
    expect(links.read('A'.repeat(20_000))).toBeUndefined();
    // Signed with another installation's key.
    expect(links.read(tokenOf(other.clickUrl(EMAIL, 'https://shop.example/')))).toBeUndefined();
    expect(other.read(token)).toBeUndefined();
  });
});
