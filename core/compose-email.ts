/**
 * What an email carries beyond its rendered template (SPEC §7.4, §8): the unsubscribe footer and
 * headers by template type, the plain-text part, and the tracking (open pixel, click redirects).
 * SEND_EMAIL uses all of it; the preview route everything but the tracking.
 *
 * Decisions:
 * - MARKETING: a short footer with the unsubscribe link is appended to the HTML (before `</body>`)
 *   unless the rendered HTML already holds the link (the template used `{{unsubscribeUrl}}`); a
 *   template's own text part gets an "Unsubscribe: <url>" line on the same condition. Headers:
 *   `List-Unsubscribe: <url>` and `List-Unsubscribe-Post: List-Unsubscribe=One-Click` (RFC 8058).
 *   HEADLESS and TRANSACTIONAL get neither footer nor headers; `{{unsubscribeUrl}}` and
 *   `{{subscribeUrl}}` still render in every type.
 * - Without a template `text`, the text part is generated from the HTML (footer included, before
 *   tracking): links show their original URLs, images are left out, nothing is wrapped.
 * - Tracking rewrites the `href` of every `<a>` and `<area>` whose URL (entities decoded, as a
 *   browser reads it) starts with http:// or https://, except the unsubscribe/subscribe links; then
 *   it adds the 1×1 pixel before `</body>` (or at the end). Only the five basic named entities and
 *   numeric references are decoded; a URL holding another named entity is tracked as written.
 */
import { compile } from 'html-to-text';
import { escapeHtml, renderHtml, renderLine, renderText, type TemplateVariables } from './render';

/** The parts of a template that shape an email. */
export interface TemplateContent {
  subject: string;
  body: string;
  text: string | null;
  type: string;
}

export interface ComposedBody {
  html: string;
  text: string;
  headers: Record<string, string>;
}

/** Renders the subject: one line, whatever the data holds. */
export function composeSubject(template: Pick<TemplateContent, 'subject'>, vars: TemplateVariables): string {
  return renderLine(template.subject, vars);
}

/** Renders the HTML and text parts and adds what the template's type calls for (footer, headers). */
export function composeBody(template: TemplateContent, vars: TemplateVariables, unsubscribeUrl: string): ComposedBody {
  let html = renderHtml(template.body, vars);
  let text = template.text ? renderText(template.text, vars) : undefined;
  const headers: Record<string, string> = {};
  if (template.type === 'MARKETING') {
    if (!html.includes(escapeHtml(unsubscribeUrl))) html = beforeBodyEnd(html, footer(unsubscribeUrl));
    if (text !== undefined && !text.includes(unsubscribeUrl)) text = `${text.trimEnd()}\n\nUnsubscribe: ${unsubscribeUrl}\n`;
    headers['List-Unsubscribe'] = `<${unsubscribeUrl}>`;
    headers['List-Unsubscribe-Post'] = 'List-Unsubscribe=One-Click';
  }
  return { html, text: text ?? htmlToText(html), headers };
}

/** Rewrites the email's http(s) links into click redirects (except `keep`) and adds the open pixel. */
export function addTracking(html: string, options: { clickUrl: (url: string) => string; openUrl: string; keep: string[] }): string {
  const rewritten = html.replace(LINK_TAG, (tag) =>
    tag.replace(HREF, (attr, lead: string, dq?: string, sq?: string, bare?: string) => {
      const url = decodeEntities(dq ?? sq ?? bare ?? '').trim();
      if (!/^https?:\/\//i.test(url) || options.keep.includes(url)) return attr;
      return `${lead}"${escapeHtml(options.clickUrl(url))}"`;
    }),
  );
  const pixel = `<img src="${escapeHtml(options.openUrl)}" width="1" height="1" alt="" style="display:block;width:1px;height:1px;border:0">`;
  return beforeBodyEnd(rewritten, pixel);
}

/** An `<a>` or `<area>` start tag (quoted attribute values may hold `>`). */
const LINK_TAG = /<(?:a|area)\b(?:[^>"']|"[^"]*"|'[^']*')*>/gi;
/** Its first `href` attribute: double-quoted, single-quoted or bare value. */
const HREF = /(\shref\s*=\s*)(?:"([^"]*)"|'([^']*)'|([^\s"'=<>`]+))/i;

const NAMED: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

function decodeEntities(value: string): string {
  return value.replace(/&(?:#x([0-9a-f]+)|#(\d+)|(amp|lt|gt|quot|apos));/gi, (whole, hex?: string, dec?: string, name?: string) => {
    if (name) return NAMED[name.toLowerCase()] ?? whole;
    const code = hex ? parseInt(hex, 16) : Number(dec);
    return code > 0 && code <= 0x10ffff && (code < 0xd800 || code > 0xdfff) ? String.fromCodePoint(code) : whole;
  });
}

function footer(unsubscribeUrl: string): string {
  return (
    '<p style="margin:24px 0 0;font-size:12px;line-height:18px;color:#6b7280">' +
    `Don't want these emails? <a href="${escapeHtml(unsubscribeUrl)}" style="color:#6b7280">Unsubscribe</a>.</p>`
  );
}

/** Inserts `fragment` before the last `</body>`, or appends it when there is none. */
function beforeBodyEnd(html: string, fragment: string): string {
  const at = html.toLowerCase().lastIndexOf('</body');
  return at === -1 ? `${html}${fragment}` : `${html.slice(0, at)}${fragment}${html.slice(at)}`;
}

const headings = ['h1', 'h2', 'h3', 'h4', 'h5', 'h6'].map((selector) => ({ selector, options: { uppercase: false } }));
const htmlToText = compile({
  wordwrap: false,
  selectors: [...headings, { selector: 'a', options: { hideLinkHrefIfSameAsText: true } }, { selector: 'img', format: 'skip' }],
});
