import { describe, expect, it } from 'vitest';
import { addTracking, composeBody, composeSubject, type TemplateContent } from '../../core/compose-email';
import { buildVariables } from '../../core/render';

const UNSUBSCRIBE = 'https://mail.example.com/unsubscribe/U1';
const SUBSCRIBE = 'https://mail.example.com/subscribe/S1';
const FOOTER =
  '<p style="margin:24px 0 0;font-size:12px;line-height:18px;color:#6b7280">' +
  `Don't want these emails? <a href="${UNSUBSCRIBE}" style="color:#6b7280">Unsubscribe</a>.</p>`;
const LIST_HEADERS = { 'List-Unsubscribe': `<${UNSUBSCRIBE}>`, 'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click' };

const vars = buildVariables({
  contact: { id: 'c-1', email: 'ada@example.com', data: { name: 'Ada', note: '<script>alert("x")</script> & co' } },
  context: { plan: 'pro' },
  unsubscribeUrl: UNSUBSCRIBE,
  subscribeUrl: SUBSCRIBE,
});

const template = (t: Partial<TemplateContent>): TemplateContent => ({ subject: 's', body: '<p>hi</p>', text: null, type: 'MARKETING', ...t });

describe('composing an email body by template type', () => {
  it('MARKETING: appends the unsubscribe footer before </body>, adds the RFC 8058 headers and a text part from the HTML', () => {
    const body = composeBody(template({ body: '<html><body><h1>Hi {{name}}</h1><p>Note: {{note}}</p></body></html>' }), vars, UNSUBSCRIBE);
    expect(body.html).toBe(`<html><body><h1>Hi Ada</h1><p>Note: &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; co</p>${FOOTER}</body></html>`);
    expect(body.text).toBe(`Hi Ada\n\nNote: <script>alert("x")</script> & co\n\nDon't want these emails? Unsubscribe [${UNSUBSCRIBE}].`);
    expect(body.headers).toEqual(LIST_HEADERS);
  });

  it('MARKETING: no second link when the body already uses {{unsubscribeUrl}}; a template text gets an Unsubscribe line unless it has the link', () => {
    const own = composeBody(template({ body: '<p>Bye? <a href="{{unsubscribeUrl}}">leave</a></p>', text: 'Hello {{name}}' }), vars, UNSUBSCRIBE);
    expect(own.html).toBe(`<p>Bye? <a href="${UNSUBSCRIBE}">leave</a></p>`);
    expect(own.text).toBe(`Hello Ada\n\nUnsubscribe: ${UNSUBSCRIBE}\n`);
    expect(own.headers).toEqual(LIST_HEADERS);

    const ownText = composeBody(template({ text: 'Leave: {{unsubscribeUrl}}' }), vars, UNSUBSCRIBE);
    expect(ownText.text).toBe(`Leave: ${UNSUBSCRIBE}`);
    expect(ownText.html).toBe(`<p>hi</p>${FOOTER}`);
  });

  it('TRANSACTIONAL and HEADLESS: neither footer nor headers, though the links still render', () => {
    for (const type of ['TRANSACTIONAL', 'HEADLESS']) {
      const body = composeBody(template({ type, body: '<p>Receipt for {{email}}</p><a href="{{subscribeUrl}}">s</a>' }), vars, UNSUBSCRIBE);
      expect(body.html).toBe(`<p>Receipt for ada@example.com</p><a href="${SUBSCRIBE}">s</a>`);
      expect(body.text).toBe(`Receipt for ada@example.com\n\ns [${SUBSCRIBE}]`);
      expect(body.headers).toEqual({});
    }
  });

  it('renders subjects on one line, whatever the data holds', () => {
    const hostile = buildVariables({ contact: { id: 'c', email: 'a@b.c', data: { name: 'Ada\r\nBcc: evil@example.com\n' } }, context: {} });
    expect(composeSubject({ subject: 'Hi {{name}}!' }, hostile)).toBe('Hi Ada Bcc: evil@example.com !');
    expect(composeSubject({ subject: 'Hi {{missing ?? "friend"}}' }, hostile)).toBe('Hi friend');
  });
});

describe('tracking links and the open pixel', () => {
  const track = (html: string) =>
    addTracking(html, {
      clickUrl: (url) => `https://mail.example.com/t/c/[${url}]`,
      openUrl: 'https://mail.example.com/t/o/O1',
      keep: [UNSUBSCRIBE, SUBSCRIBE],
    });
  const PIXEL = '<img src="https://mail.example.com/t/o/O1" width="1" height="1" alt="" style="display:block;width:1px;height:1px;border:0">';

  it('rewrites every http(s) href of <a> and <area>, with entities decoded as a browser reads them', () => {
    const html =
      '<html><body>' +
      '<a href="https://shop.example/sale?a=1&amp;b=2">one</a>' +
      "<a class='x' href='HTTP://Example.com/&#x41;&#66;'>two</a>" +
      '<a href=https://bare.example/p>three</a>' +
      '<a title="a > b" href=" https://spaced.example/ ">four</a>' +
      '<map><area shape="rect" href="https://area.example/"></map>' +
      '</body></html>';
    expect(track(html)).toBe(
      '<html><body>' +
        '<a href="https://mail.example.com/t/c/[https://shop.example/sale?a=1&amp;b=2]">one</a>' +
        '<a class=\'x\' href="https://mail.example.com/t/c/[HTTP://Example.com/AB]">two</a>' +
        '<a href="https://mail.example.com/t/c/[https://bare.example/p]">three</a>' +
        '<a title="a > b" href="https://mail.example.com/t/c/[https://spaced.example/]">four</a>' +
        '<map><area shape="rect" href="https://mail.example.com/t/c/[https://area.example/]"></map>' +
        `${PIXEL}</body></html>`,
    );
  });

  it('leaves the unsubscribe/subscribe links, other schemes, other tags and other attributes alone', () => {
    const html =
      `<a href="${UNSUBSCRIBE}">u</a><a href='${SUBSCRIBE}'>s</a>` +
      '<a href="mailto:ada@example.com">m</a><a href="#top">t</a><a href="/relative">r</a><a name="x">n</a>' +
      '<a data-href="https://data.example/">d</a><link href="https://fonts.example/css"><img src="https://img.example/a.png">';
    expect(track(html)).toBe(`${html}${PIXEL}`);
  });
});
