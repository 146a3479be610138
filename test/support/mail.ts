/** Reading what Trellis put into a received email: raw headers, links under PUBLIC_URL, tokens. */

/** The PUBLIC_URL of test apps (see testConfig): every email link starts with it. */
export const PUBLIC_URL = 'http://trellis.test';

/** Every value of header `name` in a raw message, unfolded. */
export function headerValues(raw: string, name: string): string[] {
  const end = raw.indexOf('\r\n\r\n');
  const head = (end === -1 ? raw : raw.slice(0, end)).replace(/\r\n[ \t]+/g, ' ');
  const prefix = `${name.toLowerCase()}:`;
  return head
    .split('\r\n')
    .filter((line) => line.toLowerCase().startsWith(prefix))
    .map((line) => line.slice(prefix.length).trim());
}

/** The names of every header of a raw message, in order. */
export function headerNames(raw: string): string[] {
  const end = raw.indexOf('\r\n\r\n');
  const head = (end === -1 ? raw : raw.slice(0, end)).replace(/\r\n[ \t]+/g, ' ');
  return head.split('\r\n').map((line) => line.slice(0, line.indexOf(':')));
}

const LINK = /http:\/\/trellis\.test\/(unsubscribe|subscribe|t\/o|t\/c)\/[A-Za-z0-9_-]+/g;

/** Replaces each token of a PUBLIC_URL link by `TOKEN`, so a message can be compared exactly. */
export function maskTokens(text: string): string {
  return text.replace(LINK, `${PUBLIC_URL}/$1/TOKEN`);
}

/** The PUBLIC_URL links of one kind in a text, in order. */
export function linksOf(text: string, kind: 'unsubscribe' | 'subscribe' | 't/o' | 't/c'): string[] {
  return [...text.matchAll(LINK)].filter((m) => m[1] === kind).map((m) => m[0]);
}

/** The path of a PUBLIC_URL link, to request it from the test app. */
export function pathOf(url: string): string {
  if (!url.startsWith(`${PUBLIC_URL}/`)) throw new Error(`not a PUBLIC_URL link: ${url}`);
  return url.slice(PUBLIC_URL.length);
}
