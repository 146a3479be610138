import { describe, expect, it } from 'vitest';
import { spamVerdict } from '../../core/spam-verdict';

describe('spamVerdict', () => {
  it.each([
    // DMARC decides when the From domain has a policy.
    [{ spf: 'fail', dkimPass: false, dmarc: 'pass' }, 'PASS'],
    [{ spf: 'pass', dkimPass: true, dmarc: 'fail' }, 'FAIL'],
    // Without a policy, SPF or DKIM passing is enough.
    [{ spf: 'pass', dkimPass: false, dmarc: 'none' }, 'PASS'],
    [{ spf: 'none', dkimPass: true, dmarc: 'none' }, 'PASS'],
    [{ spf: 'softfail', dkimPass: true, dmarc: 'none' }, 'PASS'],
    // SPF failing with no DKIM pass fails, whatever DMARC could not say.
    [{ spf: 'fail', dkimPass: false, dmarc: 'none' }, 'FAIL'],
    [{ spf: 'softfail', dkimPass: false, dmarc: 'none' }, 'FAIL'],
    [{ spf: 'fail', dkimPass: false, dmarc: 'neutral' }, 'FAIL'],
    [{ spf: 'fail', dkimPass: false, dmarc: 'temperror' }, 'FAIL'],
    // Nothing proven either way.
    [{ spf: 'none', dkimPass: false, dmarc: 'none' }, 'NEUTRAL'],
    [{ spf: 'neutral', dkimPass: false, dmarc: 'none' }, 'NEUTRAL'],
    [{ spf: 'temperror', dkimPass: false, dmarc: 'none' }, 'NEUTRAL'],
    [{ spf: 'permerror', dkimPass: false, dmarc: 'none' }, 'NEUTRAL'],
    // A DMARC check that did not finish (or erred) cannot vouch for an SPF or DKIM pass.
    [{ spf: 'pass', dkimPass: false, dmarc: 'neutral' }, 'NEUTRAL'],
    [{ spf: 'pass', dkimPass: true, dmarc: 'temperror' }, 'NEUTRAL'],
    [{ spf: 'neutral', dkimPass: false, dmarc: 'neutral' }, 'NEUTRAL'],
  ] as const)('%o → %s', (results, verdict) => {
    expect(spamVerdict(results)).toBe(verdict);
  });
});
