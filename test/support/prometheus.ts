/** Reading a /metrics answer in tests: the text format's line grammar, checked strictly, and sample look-ups. */

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface Scrape {
  status: number;
  contentType: string | null;
  text: string;
  /** Family names, from their TYPE lines. */
  families: string[];
  samples: Sample[];
}

const NAME = '[a-zA-Z_:][a-zA-Z0-9_:]*';
const LABEL_NAME = '[a-zA-Z_][a-zA-Z0-9_]*';
const LABEL_VALUE = '"(?:[^"\\\\\\n]|\\\\["\\\\n])*"';
const LABEL_LIST = `(?:${LABEL_NAME}=${LABEL_VALUE}(?:,${LABEL_NAME}=${LABEL_VALUE})*,?)?`;
const VALUE = '[+-]?(?:\\d+(?:\\.\\d*)?|\\.\\d+)(?:[eE][+-]?\\d+)?|[+-]?Inf|NaN';
const SAMPLE = new RegExp(`^(${NAME})(?:\\{(${LABEL_LIST})\\})? (${VALUE})(?: -?\\d+)?$`);
const ONE_LABEL = new RegExp(`(${LABEL_NAME})="((?:[^"\\\\\\n]|\\\\["\\\\n])*)"`, 'g');
const HELP = new RegExp(`^# HELP (${NAME}) .*$`);
const TYPE = new RegExp(`^# TYPE (${NAME}) (counter|gauge|histogram|summary|untyped)$`);

/**
 * Parses the Prometheus text format (0.0.4) strictly: every line is blank, a HELP, a TYPE or a sample;
 * each family is declared once and its samples follow its TYPE. `errors` lists the offending lines.
 */
export function parseExposition(text: string): { families: string[]; samples: Sample[]; errors: string[] } {
  const errors: string[] = [];
  const families: string[] = [];
  const samples: Sample[] = [];
  let current: string | undefined;
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const type = TYPE.exec(line);
    if (type) {
      if (families.includes(type[1]!)) errors.push(`declared twice: ${line}`);
      families.push(type[1]!);
      current = type[1];
      continue;
    }
    if (HELP.test(line)) continue;
    const sample = SAMPLE.exec(line);
    if (!sample) {
      errors.push(`not a sample: ${line}`);
      continue;
    }
    const [, name, labelText, value] = sample as unknown as [string, string, string | undefined, string];
    const inFamily = current !== undefined && (name === current || /^(.*)_(bucket|sum|count|total|created)$/.exec(name)?.[1] === current);
    if (!inFamily) errors.push(`sample outside its family (${current}): ${line}`);
    const labels: Record<string, string> = {};
    for (const m of (labelText ?? '').matchAll(ONE_LABEL)) labels[m[1]!] = m[2]!.replace(/\\n/g, '\n').replace(/\\(["\\])/g, '$1');
    samples.push({ name, labels, value: Number(value.replace('Inf', 'Infinity')) });
  }
  return { families, samples, errors };
}

/** GETs `<url>/metrics` and parses it. */
export async function scrape(url: string): Promise<Scrape> {
  const res = await fetch(`${url}/metrics`);
  const text = await res.text();
  const { families, samples } = parseExposition(text);
  return { status: res.status, contentType: res.headers.get('content-type'), text, families, samples };
}

/** The sum of the samples named `name` whose labels include `labels` (0 when the series does not exist yet). */
export function sampleValue(samples: Sample[], name: string, labels: Record<string, string> = {}): number {
  return samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v)).reduce((sum, s) => sum + s.value, 0);
}
