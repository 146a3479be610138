/** The spam verdict of an inbound message (`email.received`'s `spamVerdict`) from its SPF, DKIM and DMARC results. */

export type SpamVerdict = 'PASS' | 'FAIL' | 'NEUTRAL';

/**
 * Results as mailauth names them (`pass`, `fail`, `softfail`, `none`, `neutral`, `temperror`,
 * `permerror`…); a check that did not finish in time is `neutral`.
 */
export interface AuthResults {
  spf: string;
  /** Whether at least one DKIM signature verified. */
  dkimPass: boolean;
  /** `none` when the From domain publishes no DMARC policy. */
  dmarc: string;
}

/**
 * PASS when DMARC passes or, with no DMARC policy, SPF or DKIM passes; FAIL when DMARC fails, or SPF
 * fails (`fail`/`softfail`) with no DKIM pass; NEUTRAL otherwise — among others when a check timed
 * out or erred, since an unfinished check proves nothing either way.
 */
export function spamVerdict({ spf, dkimPass, dmarc }: AuthResults): SpamVerdict {
  if (dmarc === 'pass') return 'PASS';
  if (dmarc === 'fail') return 'FAIL';
  if ((spf === 'fail' || spf === 'softfail') && !dkimPass) return 'FAIL';
  if (dmarc === 'none' && (spf === 'pass' || dkimPass)) return 'PASS';
  return 'NEUTRAL';
}
