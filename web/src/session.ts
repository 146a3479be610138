/**
 * Signing in (SPEC §15): a secret key from the URL's fragment (`/app/#key=sk_…`, never sent to a
 * server) or pasted, kept in this tab's session storage only.
 */
const STORAGE_KEY = 'trellis.secretKey';

/** The tab's key: taken from the fragment (then removed from the address bar), else the stored one. */
export function readKey(): string | null {
  const match = /(?:^#|&)key=([^&]+)/.exec(window.location.hash);
  if (match) {
    saveKey(decodeURIComponent(match[1]!));
    window.history.replaceState(window.history.state, '', window.location.pathname + window.location.search);
  }
  return window.sessionStorage.getItem(STORAGE_KEY);
}

export function saveKey(key: string): void {
  window.sessionStorage.setItem(STORAGE_KEY, key.trim());
}

export function forgetKey(): void {
  window.sessionStorage.removeItem(STORAGE_KEY);
}
