import { describe, expect, it } from 'vitest';
import { parseExposition } from '../support/prometheus';

// The grammar the /metrics test relies on must itself refuse what Prometheus would refuse.
describe('the Prometheus text grammar of the tests', () => {
  it('reads HELP, TYPE and samples with labels, escapes, NaN and Inf', () => {
    const parsed = parseExposition(
      [
        '# HELP h a histogram',
        '# TYPE h histogram',
        'h_bucket{le="0.1",type="SEND_EMAIL"} 1',
        'h_bucket{le="+Inf",type="SEND_EMAIL"} 2',
        'h_sum{type="SEND_EMAIL"} 0.25',
        'h_count{type="SEND_EMAIL"} 2',
        '# TYPE g gauge',
        'g NaN',
        'g{path="a\\"b\\\\c"} -Inf 1700000000000',
        '',
      ].join('\n'),
    );
    expect(parsed.errors).toEqual([]);
    expect(parsed.families).toEqual(['h', 'g']);
    expect(parsed.samples.find((s) => s.name === 'h_count')).toEqual({ name: 'h_count', labels: { type: 'SEND_EMAIL' }, value: 2 });
    expect(parsed.samples.at(-1)).toEqual({ name: 'g', labels: { path: 'a"b\\c' }, value: Number.NEGATIVE_INFINITY });
  });

  it('names every line that is not well-formed', () => {
    const parsed = parseExposition(
      ['# TYPE c counter', 'c_total 1', 'c{a=unquoted} 1', 'c{a="x"}1', 'c 1 2 3', '# TYPE c counter', 'stray 1', '# TYPE d sometype'].join('\n'),
    );
    expect(parsed.errors).toEqual([
      'not a sample: c{a=unquoted} 1',
      'not a sample: c{a="x"}1',
      'not a sample: c 1 2 3',
      'declared twice: # TYPE c counter',
      'sample outside its family (c): stray 1',
      'not a sample: # TYPE d sometype',
    ]);
  });
});
