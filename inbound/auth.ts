/**
 * SPF, DKIM and DMARC checks of an inbound message (mailauth), bounded in time: a check that has not
 * finished by the deadline counts as `neutral`, so a mail exchanger without working DNS still answers.
 */
import { promises as dns } from 'node:dns';
import type { DNSResolver } from 'mailauth';
import { dkimVerify } from 'mailauth/lib/dkim/verify';
import { dmarc } from 'mailauth/lib/dmarc';
import { spf } from 'mailauth/lib/spf';
import { spamVerdict, type AuthResults, type SpamVerdict } from '../core/spam-verdict';

export type { DNSResolver };

export interface InboundClient {
  /** The connecting client's IP address. */
  ip: string;
  /** The name it gave in EHLO/HELO. */
  helo: string;
  /** The envelope sender (MAIL FROM); undefined for a bounce (`<>`). */
  sender: string | undefined;
}

/** Resolves with `undefined` once `deadline` (epoch ms) passes, unless `work` settles first. */
async function before<T>(work: Promise<T>, deadline: number): Promise<T | undefined> {
  const left = deadline - Date.now();
  if (left <= 0) return undefined;
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), left);
  });
  try {
    return await Promise.race([work, late]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Checks `raw` (the message as received) sent by `client`: DKIM and SPF run side by side, then DMARC
 * on their results, all within `timeoutMs`. A check that errs counts as its error result
 * (`temperror`/`permerror`), one that does not finish as `neutral`.
 */
export async function checkInbound(
  raw: Buffer,
  client: InboundClient,
  options: { resolver?: DNSResolver; timeoutMs: number; mta: string },
): Promise<{ verdict: SpamVerdict; results: AuthResults }> {
  const resolver = options.resolver ?? (dns.resolve as DNSResolver);
  const deadline = Date.now() + options.timeoutMs;
  const [dkimResult, spfResult] = await Promise.all([
    before(
      dkimVerify(raw, { resolver, sender: client.sender }).catch(() => undefined),
      deadline,
    ),
    before(
      spf({ ip: client.ip, helo: client.helo, sender: client.sender, mta: options.mta, resolver }).catch(() => undefined),
      deadline,
    ),
  ]);
  const dkimDomains = (dkimResult?.results ?? [])
    .filter((r) => r.status.result === 'pass')
    .map((r) => ({ id: r.id, domain: r.signingDomain, aligned: r.status.aligned, underSized: r.status.underSized }));
  const spfPassed = spfResult?.status.result === 'pass' && spfResult.domain ? [spfResult.domain] : [];
  // DMARC needs the From domain DKIM parsed; without it (or with several From addresses) there is no policy to apply.
  const dmarcResult = dkimResult?.headerFrom?.length
    ? await before(
        dmarc({ headerFrom: dkimResult.headerFrom, spfDomains: spfPassed, dkimDomains, resolver }).catch(() => undefined),
        deadline,
      )
    : undefined;
  const results: AuthResults = {
    spf: spfResult?.status.result ?? 'neutral',
    dkimPass: dkimDomains.length > 0,
    dmarc: dmarcResult === false ? 'none' : (dmarcResult?.status.result ?? 'neutral'),
  };
  return { verdict: spamVerdict(results), results };
}
