/** A per-key fixed-window limiter (one process's view: each API process allows the limit on its own). */
export function rateLimiter(perSecond: number, now: () => number = Date.now): (key: string) => boolean {
  const windows = new Map<string, { second: number; used: number }>();
  return (key) => {
    const second = Math.floor(now() / 1000);
    const w = windows.get(key);
    if (!w || w.second !== second) {
      windows.set(key, { second, used: 1 });
      return true;
    }
    w.used += 1;
    return w.used <= perSecond;
  };
}
