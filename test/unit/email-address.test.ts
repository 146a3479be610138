import { describe, expect, it } from 'vitest';
import { emailAddress, isEmailAddress, normalizeEmail, parseSender } from '../../core/email-address';

describe('email addresses', () => {
  it('trims and lower-cases the ASCII letters only', () => {
    expect(normalizeEmail('  Ada.Lovelace@Example.COM ')).toBe('ada.lovelace@example.com');
    // The Kelvin sign is not the letter K: it is kept, and so refused below, never folded into "k".
    expect(normalizeEmail('\u212Aelvin@example.com')).toBe('\u212Aelvin@example.com');
    expect(normalizeEmail('İnci@example.com')).toBe('İnci@example.com');
  });

  it.each([
    'test@xn--e1afmkfd.xn--p1ai',
    'a@b.co',
    'first.last+tag@sub.example.org',
    "o'brien@example.ie",
    'x_y-z@xn--bcher-kva.example',
    'user@mail-1.example.travel',
  ])('accepts %s', (address) => {
    expect(isEmailAddress(address)).toBe(true);
    expect(emailAddress.parse(address.toUpperCase())).toBe(address);
  });

  it.each([
    '\u212Aelvin@example.com',
    'test@пример.рф',
    'plain',
    '@example.com',
    'a@',
    'a@localhost',
    'a@example.c',
    'a@example.123',
    'a@-example.com',
    'a@example-.com',
    'a@exa_mple.com',
    '.a@example.com',
    'a.@example.com',
    'a..b@example.com',
    'a b@example.com',
    '"a b"@example.com',
    'a@[127.0.0.1]',
    'a@example.com\r\nBcc: victim@example.com',
    `${'a'.repeat(65)}@example.com`,
    `a@${'b'.repeat(250)}.com`,
  ])('refuses %j', (address) => {
    expect(emailAddress.safeParse(address).success).toBe(false);
  });
});

describe('senders', () => {
  it.each([
    ['news@example.com', { address: 'news@example.com' }],
    ['News@Example.com', { address: 'news@example.com' }],
    ['The Shop <News@example.com>', { name: 'The Shop', address: 'news@example.com' }],
    ['  Ann  <ann@example.com> ', { name: 'Ann', address: 'ann@example.com' }],
    ['<ann@example.com>', { address: 'ann@example.com' }],
  ])('reads %j', (text, expected) => {
    expect(parseSender(text)).toEqual(expected);
  });

  it.each([
    'Ann\r\nBcc: x@example.com <ann@example.com>',
    'Ann <ann@example.com',
    'Ann "A" <ann@example.com>',
    'Ann <not an address>',
    'a <b> <c@example.com>',
    '',
  ])('refuses %j', (text) => {
    expect(parseSender(text)).toBeUndefined();
  });
});
