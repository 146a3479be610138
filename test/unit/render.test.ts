import { describe, expect, it } from 'vitest';
import {
  buildVariables,
  checkTemplate,
  markupFree,
  plainOutputsOnly,
  renderHtml,
  renderJson,
  renderLine,
  renderText,
  TemplateError,
  toSingleLine,
} from '../../core/render';
import { createRenderer } from '../../activities/renderer';
import { runRenderTask } from '../../activities/render-task';

const vars = buildVariables({
  contact: {
    id: 'c_1',
    email: 'ann@example.com',
    data: {
      firstName: 'Ann',
      plan: 'pro',
      id: 'data-id',
      email: 'data@example.com',
      nothing: null,
      emptyText: '',
      off: false,
      zero: 0,
      tags: ['a', 'b'],
      address: { city: 'Lyon', zip: '69001' },
    },
  },
  context: { plan: 'enterprise', amount: 42, email: 'ctx@example.com', data: 'ctx-data', items: [1, 2, 3] },
  unsubscribeUrl: 'https://t.example/u/abc',
  subscribeUrl: 'https://t.example/s/abc',
});

describe('buildVariables', () => {
  it('lets context keys win over contact data keys', () => {
    expect(renderText('{{ plan }}', vars)).toBe('enterprise');
  });

  it('keeps data.<path> on the contact and event.<path> on the context', () => {
    expect(renderText('{{ data.plan }}|{{ event.plan }}|{{ event.amount }}', vars)).toBe('pro|enterprise|42');
    expect(renderText('{{ data.address.city }}', vars)).toBe('Lyon');
  });

  it('never lets data or context shadow id, email, data or event', () => {
    expect(renderText('{{ id }} {{ email }}', vars)).toBe('c_1 ann@example.com');
    expect(renderText('{{ data.firstName }}', vars)).toBe('Ann');
    expect(vars.id).toBe('c_1');
    expect(vars.email).toBe('ann@example.com');
  });

  it('exposes the subscription links', () => {
    expect(renderText('{{ unsubscribeUrl }} {{ subscribeUrl }}', vars)).toBe('https://t.example/u/abc https://t.example/s/abc');
  });

  it('does not let the context supply its own subscription links', () => {
    const scope = buildVariables({
      contact: { id: 'c', email: 'e@x.io', data: {} },
      context: { unsubscribeUrl: 'https://evil.example' },
    });
    expect(renderText('[{{ unsubscribeUrl }}]', scope)).toBe('[]');
    expect(scope.unsubscribeUrl).toBe(null);
    expect(scope.subscribeUrl).toBe(null);
  });

  it('builds the whole scope in order', () => {
    expect(buildVariables({ contact: { id: 'c', email: 'e@x.io', data: { a: 1, b: 2 } }, context: { b: 3 } })).toEqual({
      a: 1,
      b: 3,
      id: 'c',
      email: 'e@x.io',
      data: { a: 1, b: 2 },
      event: { b: 3 },
      unsubscribeUrl: null,
      subscribeUrl: null,
    });
  });
});

describe('renderText', () => {
  it('renders unknown variables empty', () => {
    expect(renderText('Hi {{ nobody }}!', vars)).toBe('Hi !');
    expect(renderText('[{{ data.nope.deeper }}][{{ event.nope }}][{{ nothing }}]', vars)).toBe('[][][]');
  });

  it('renders numbers and booleans as text', () => {
    expect(renderText('{{ amount }} {{ zero }} {{ off }} {{ 2.5 }}', vars)).toBe('42 0 false 2.5');
  });

  it('renders objects and arrays as JSON', () => {
    expect(renderText('{{ data.address }}', vars)).toBe('{"city":"Lyon","zip":"69001"}');
    expect(renderText('{{ tags }}', vars)).toBe('["a","b"]');
    expect(renderText('{{ items }}', vars)).toBe('[1,2,3]');
  });

  it('supports Liquid tags and filters', () => {
    expect(renderText('{% if plan == "enterprise" %}big{% else %}small{% endif %}', vars)).toBe('big');
    expect(renderText('{% for t in tags %}<{{ t }}>{% endfor %}', vars)).toBe('<a><b>');
    expect(renderText('{{ firstName | upcase }} {{ amount | plus: 1 }}', vars)).toBe('ANN 43');
    expect(renderText('{{ nobody | default: "x" }}', vars)).toBe('x');
    expect(renderText('{% assign n = tags | size %}{{ n }}', vars)).toBe('2');
  });

  it('does not escape in plain text', () => {
    expect(renderText('{{ v }}', { v: '<b>"a" & b</b>' })).toBe('<b>"a" & b</b>');
  });
});

describe('?? fallbacks', () => {
  it('keeps a present value', () => {
    expect(renderText('Hi {{ firstName ?? there }}', vars)).toBe('Hi Ann');
  });

  it('uses the fallback when the value is missing, null, "" or false', () => {
    expect(renderText('{{ nobody ?? there }}', vars)).toBe('there');
    expect(renderText('{{ nothing ?? there }}', vars)).toBe('there');
    expect(renderText('{{ emptyText ?? there }}', vars)).toBe('there');
    expect(renderText('{{ off ?? there }}', vars)).toBe('there');
    expect(renderText('{{ data.nope ?? there }}', vars)).toBe('there');
  });

  it('does not treat 0 as empty', () => {
    expect(renderText('{{ zero ?? none }}', vars)).toBe('0');
  });

  it('accepts unquoted, double-quoted and single-quoted fallbacks', () => {
    expect(renderText('{{nobody ?? there}}', vars)).toBe('there');
    expect(renderText('{{nobody ?? "dear friend"}}', vars)).toBe('dear friend');
    expect(renderText("{{ nobody ?? 'x' }}", vars)).toBe('x');
    expect(renderText('{{ nobody ?? dear friend }}', vars)).toBe('dear friend');
    expect(renderText("{{ nobody ?? don't }}", vars)).toBe("don't");
    expect(renderText('{{ nobody ?? "it\'s }} here" }}', vars)).toBe("it's }} here");
    expect(renderText('{{ nobody ?? "say \\"hi\\"" }}', vars)).toBe('say "hi"');
  });

  it('applies the fallback to the value after filters', () => {
    expect(renderText('{{ nobody | upcase ?? "X" }}', vars)).toBe('X');
    expect(renderText('{{ firstName | upcase ?? "X" }}', vars)).toBe('ANN');
  });

  it('keeps whitespace control', () => {
    expect(renderText('a {{- nobody ?? b -}} c', vars)).toBe('abc');
  });

  it('leaves ?? alone inside tags, raw blocks and quoted strings', () => {
    expect(renderText('{% raw %}{{ a ?? b }}{% endraw %}', vars)).toBe('{{ a ?? b }}');
    expect(renderText('{{ "a ?? b" }}', vars)).toBe('a ?? b');
    expect(renderText('{% assign q = "x ?? y" %}{{ q }}', vars)).toBe('x ?? y');
  });

  it('also works as a filter, with the same empty cases', () => {
    expect(renderText('{{ zero | fallback: "n" }}|{{ off | fallback: "n" }}', vars)).toBe('0|n');
  });

  it('refuses filters after a quoted fallback', () => {
    expect(checkTemplate('Hi\n  {{ a ?? "b" | upcase }}')).toEqual({
      ok: false,
      message: 'only literal text may follow "??"; put filters before it',
      line: 2,
      column: 15,
    });
    expect(() => renderText('{{ ?? b }}', vars)).toThrow(TemplateError);
  });
});

describe('renderHtml', () => {
  it('escapes every value', () => {
    expect(renderHtml('<p>{{ v }}</p>', { v: '<script>alert("x")</script>' })).toBe('<p>&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;</p>');
    expect(renderHtml('<a href="{{ u }}">x</a>', { u: 'https://x.io/?a=1&b=2' })).toBe('<a href="https://x.io/?a=1&amp;b=2">x</a>');
  });

  it('escapes fallbacks, JSON values and values marked raw', () => {
    expect(renderHtml('{{ nobody ?? "Tom & Jerry" }}', {})).toBe('Tom &amp; Jerry');
    expect(renderHtml('{{ o }}', { o: { a: '<' } })).toBe('{&quot;a&quot;:&quot;&lt;&quot;}');
    expect(renderHtml('{{ v | raw }}', { v: '<b>' })).toBe('&lt;b&gt;');
  });

  it('leaves the template HTML untouched', () => {
    expect(renderHtml('<b class="x">&amp; {{ n }}</b>', { n: 'Ann' })).toBe('<b class="x">&amp; Ann</b>');
  });

  it('escapes only in HTML mode', () => {
    const source = '{{ v }}';
    const v = { v: 'a & <b>' };
    expect(renderHtml(source, v)).toBe('a &amp; &lt;b&gt;');
    expect(renderText(source, v)).toBe('a & <b>');
    expect(renderHtml(source, v)).toBe('a &amp; &lt;b&gt;');
  });
});

describe('renderLine', () => {
  it('turns line breaks into single spaces and trims', () => {
    expect(renderLine(' Hello\r\n{{ name }}\n\n\nthere \n', { name: 'Ann' })).toBe('Hello Ann there');
    expect(renderLine('X-{{ v }}', { v: 'a\r\nInjected: yes' })).toBe('X-a Injected: yes');
    expect(renderLine('a\rb\u2028c', {})).toBe('a b c');
  });
});

describe('renderJson', () => {
  it('renders every string deeply and keeps keys and other values', () => {
    expect(renderJson({ url: 'https://x.io/{{ id }}', n: 3, ok: true, none: null, list: ['{{ email }}', 1, { '{{ id }}': '{{ plan }}' }] }, vars)).toEqual({
      url: 'https://x.io/c_1',
      n: 3,
      ok: true,
      none: null,
      list: ['ann@example.com', 1, { '{{ id }}': 'enterprise' }],
    });
    expect(renderJson('{{ firstName }}', vars)).toBe('Ann');
    expect(renderJson(7, vars)).toBe(7);
  });
});

describe('markupFree', () => {
  it('finds {{ or {% in any string of a JSON value, not in its keys', () => {
    expect(markupFree({ a: [1, 'x', { b: 'y {{ id }}' }] })).toBe(false);
    expect(markupFree(['{% if plan %}'])).toBe(false);
    expect(markupFree({ '{{ id }}': 'plain', n: null, t: true, s: 'a } b { c %} {#' })).toBe(true);
    expect(markupFree(undefined)).toBe(true);
  });

  it('holds only for text that renders to itself (what lets the renderer skip its threads)', () => {
    for (const s of ['plain', 'a } b', '{ x }', 'x ?? y', '}}', '%}', '{ {', ' two\n lines\t', '{#', '<p>&amp;</p>']) {
      expect(markupFree(s)).toBe(true);
      expect(renderText(s, vars)).toBe(s);
      expect(renderLine(s, vars)).toBe(toSingleLine(s));
    }
  });
});

describe('checkTemplate', () => {
  it('accepts a valid template', () => {
    expect(checkTemplate('Hi {{ name ?? there }} {% if a %}x{% endif %}')).toEqual({ ok: true });
  });

  it('reports an unclosed if with its position', () => {
    expect(checkTemplate('Hello\n  {% if x %}yes')).toEqual({
      ok: false,
      message: 'tag {% if x %} not closed',
      line: 2,
      column: 3,
    });
  });

  it('reports an unknown filter with its position', () => {
    expect(checkTemplate('a\nb {{ name | shout }}')).toEqual({
      ok: false,
      message: 'undefined filter: shout',
      line: 2,
      column: 3,
    });
  });

  it('reports positions in the original source after a ?? rewrite', () => {
    expect(checkTemplate('x {{ a ?? "b c" }} {{ q | shout }}')).toEqual({
      ok: false,
      message: 'undefined filter: shout',
      line: 1,
      column: 20,
    });
  });

  it('refuses partials', () => {
    expect(checkTemplate('{% include "secrets" %}')).toEqual({
      ok: false,
      message: 'the "include" tag is not supported',
      line: 1,
      column: 1,
    });
  });
});

describe('errors', () => {
  it('throws TemplateError with the position for a template that does not parse', () => {
    let caught: unknown;
    try {
      renderText('a {{ name | shout }}', vars);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(TemplateError);
    expect((caught as TemplateError).message).toBe('undefined filter: shout (line 1, column 3)');
    expect((caught as TemplateError).line).toBe(1);
    expect((caught as TemplateError).column).toBe(3);
  });

  it('throws TemplateError when rendering fails', () => {
    expect(() => renderText('{% for i in (1..100000000) %}{{ i }}{% endfor %}', {})).toThrow(TemplateError);
    expect(() => renderText('{% for i in (1..100000000) %}{{ i }}{% endfor %}', {})).toThrow('memory alloc limit exceeded (line 1, column 1)');
  });
});

describe('plainOutputsOnly', () => {
  it('holds for plain variable outputs and literal text, in any string of a JSON value', () => {
    expect(plainOutputsOnly('https://hooks.example.com/{{id}}?plan={{ contact.data.plan }}')).toBe(true);
    expect(plainOutputsOnly({ a: ['{{ data.tags[0] }}', 3, null], b: 'plain', c: { d: '{{email}}' } })).toBe(true);
    expect(plainOutputsOnly(['a } b', '{ x }'])).toBe(true);
  });

  it('fails for any tag, filter, whitespace control or stray markup', () => {
    for (const s of ['{{ id | upcase }}', '{% if plan %}x{% endif %}', '{{- id }}', '{{ id -}}', '{{ id }} {{', '{{ "text" }}', '{{ a.b[c] }}', '{%raw%}']) {
      expect(plainOutputsOnly(s)).toBe(false);
      expect(plainOutputsOnly({ deep: [s] })).toBe(false);
    }
  });

  it('renders on the calling thread exactly what a render thread renders', async () => {
    const renderer = createRenderer({ threads: 1 });
    try {
      const lines = [
        'https://x.test/{{ id }}/{{data.plan}}',
        ' {{ data.address.city }} \n {{ data.tags[1] }}',
        '{{ data.missing }}|{{ data.zero }}|{{ data.off }}|{{ data.nothing }}',
      ];
      const json = { who: '{{ email }}', list: ['{{ data.firstName }}', 7, { z: '{{ data.tags }}' }], keep: true };
      expect(plainOutputsOnly(lines) && plainOutputsOnly(json)).toBe(true);
      const onThread = runRenderTask({ kind: 'values', vars, lines, json });
      expect(onThread.ok).toBe(true);
      const { kind: _, ...expected } = (onThread as { ok: true; result: { kind: string } }).result;
      expect(await renderer.values(vars, lines, json)).toEqual(expected);
      expect(expected).toEqual({
        lines: ['https://x.test/c_1/pro', 'Lyon b', '|0|false|'],
        json: { who: 'ann@example.com', list: ['Ann', 7, { z: '["a","b"]' }], keep: true },
      });
    } finally {
      await renderer.close();
    }
  });
});
