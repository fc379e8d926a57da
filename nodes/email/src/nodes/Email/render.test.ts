import { beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isNodeError } from '@campaignos/sdk';
import { clearRenderCache, compileEmail, renderCacheStats, renderEmail, templateVariables, withUnsubscribeFooter } from './render.js';
import { htmlToText } from './plain-text.js';

const MJML = `<mjml>
  <mj-body>
    <mj-section>
      <mj-column>
        <mj-text>Hello {{ contact.attributes.firstName | default: "there" }}!</mj-text>
        <mj-text>Your plan: {{ event.properties.plan }}.</mj-text>
        <mj-button href="https://example.com/start?c={{ contact.id }}">Get started</mj-button>
      </mj-column>
    </mj-section>
  </mj-body>
</mjml>`;

const variables = templateVariables({
  contact: { id: 'c-1', externalId: null, email: 'ada@example.com', phone: null, timeZone: null, attributes: { firstName: 'Ada' } },
  event: { name: 'signup', properties: { plan: 'Pro' } },
  item: {},
});

async function rejectsWithCode(promise: Promise<unknown>, code: string, pattern?: RegExp) {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(isNodeError(error), `expected a NodeError, got ${String(error)}`);
    assert.equal(error.code, code);
    if (pattern) assert.match(error.message, pattern);
    return true;
  });
}

describe('renderEmail', () => {
  beforeEach(() => clearRenderCache());

  it('personalises subject, HTML and text', async () => {
    const out = await renderEmail({ subject: 'Welcome, {{ contact.firstName }} ({{ event.properties.plan }})', mjml: MJML, variables });
    assert.equal(out.subject, 'Welcome, Ada (Pro)');
    assert.match(out.html, /Hello Ada!/);
    assert.match(out.html, /Your plan: Pro\./);
    assert.match(out.html, /href="https:\/\/example\.com\/start\?c=c-1"/);
    assert.match(out.text, /Hello Ada!/);
    assert.match(out.text, /Get started \(https:\/\/example\.com\/start\?c=c-1\)/);
    assert.doesNotMatch(out.text, /<|\{\{/);
  });

  it('falls back to Liquid defaults for missing attributes', async () => {
    const out = await renderEmail({ subject: 'Hi', mjml: MJML, variables: templateVariables({ contact: {}, event: {}, item: {} }) });
    assert.match(out.html, /Hello there!/);
  });

  it('HTML-escapes values in the body but not in the subject', async () => {
    const evil = templateVariables({
      contact: { id: 'c-2', attributes: { firstName: '<script>alert("x")</script> & Co' } },
      event: { properties: { plan: '"><img src=x onerror=alert(1)>' } },
      item: {},
    });
    const out = await renderEmail({ subject: 'For {{ contact.firstName }}', mjml: MJML, variables: evil });
    assert.equal(out.subject, 'For <script>alert("x")</script> & Co');
    assert.doesNotMatch(out.html, /<script>alert/);
    assert.doesNotMatch(out.html, /<img src=x/);
    assert.match(out.html, /&lt;script&gt;alert\(&#34;x&#34;\)&lt;\/script&gt; &amp; Co/);
    // The text part is plain text: the value appears as written.
    assert.match(out.text, /Hello <script>alert\("x"\)<\/script> & Co!/);
  });

  it('keeps a rendered subject on one line', async () => {
    const out = await renderEmail({
      subject: 'Hi {{ contact.firstName }}',
      mjml: MJML,
      variables: templateVariables({ contact: { attributes: { firstName: 'Ada\r\nBcc: victim@example.com' } }, event: {}, item: {} }),
    });
    assert.equal(out.subject, 'Hi Ada Bcc: victim@example.com');
  });

  it('compiles MJML once per template version, however many contacts', async () => {
    for (let i = 0; i < 50; i++) {
      const out = await renderEmail({
        subject: 'Hi {{ contact.firstName }}',
        mjml: MJML,
        variables: templateVariables({ contact: { attributes: { firstName: `N${i}` } }, event: {}, item: {} }),
      });
      assert.match(out.html, new RegExp(`Hello N${i}!`));
    }
    assert.deepEqual(renderCacheStats(), { compiles: 1, size: 1 });
    await renderEmail({ subject: 'Hi', mjml: MJML.replace('Hello', 'Hey'), variables });
    assert.deepEqual(renderCacheStats(), { compiles: 2, size: 2 });
  });

  it('shares one compile between concurrent first renders', async () => {
    const fresh = MJML.replace('Hello', 'Howdy');
    const outs = await Promise.all(Array.from({ length: 20 }, () => renderEmail({ subject: 'Hi', mjml: fresh, variables })));
    assert.equal(outs.length, 20);
    assert.equal(renderCacheStats().compiles, 1);
  });

  it('adds an unsubscribe footer when the template has no link', async () => {
    const url = 'https://campaignos.test/u/abc?x=1&y=2';
    const out = await renderEmail({ subject: 'Hi', mjml: MJML, variables: { ...variables, unsubscribe_url: url } });
    assert.match(out.html, /<a href="https:\/\/campaignos\.test\/u\/abc\?x=1&amp;y=2"[^>]*>Unsubscribe<\/a>/);
    assert.match(out.text, /Unsubscribe \(https:\/\/campaignos\.test\/u\/abc\?x=1&y=2\)/);
  });

  it('does not add a second link when the template has one', async () => {
    const own = MJML.replace('</mj-column>', '<mj-text><a href="{{ unsubscribe_url }}">Stop these emails</a></mj-text></mj-column>');
    assert.equal(withUnsubscribeFooter(own), own);
    const out = await renderEmail({ subject: 'Hi', mjml: own, variables: { ...variables, unsubscribe_url: 'https://u.test/1' } });
    assert.equal(out.html.match(/https:\/\/u\.test\/1/g)?.length, 1);
    assert.match(out.html, /Stop these emails/);
    assert.doesNotMatch(out.html, />Unsubscribe</);
  });

  it('uses a given text part and adds the unsubscribe line to it', async () => {
    const out = await renderEmail({
      subject: 'Hi',
      mjml: MJML,
      text: 'Hi {{ contact.firstName }} <3',
      variables: { ...variables, unsubscribe_url: 'https://u.test/2' },
    });
    assert.equal(out.text, 'Hi Ada <3\n\nUnsubscribe: https://u.test/2');
  });

  it('reports MJML validation errors with their line', async () => {
    const bad = MJML.replace('<mj-text>Your plan', '<mj-txet>Your plan').replace('.</mj-text>', '.</mj-txet>');
    await rejectsWithCode(renderEmail({ subject: 'Hi', mjml: bad, variables }), 'TEMPLATE_INVALID', /line 6: Element mj-txet/);
  });

  it('reports Liquid syntax errors with their line in the MJML source', async () => {
    const bad = MJML.replace('{{ event.properties.plan }}', '{% if event.properties.plan %}{{ event.properties.plan }}');
    await rejectsWithCode(renderEmail({ subject: 'Hi', mjml: bad, variables }), 'TEMPLATE_INVALID', /not closed, line:6/);
    await rejectsWithCode(renderEmail({ subject: 'Hi {{ contact.firstName | nope }}', mjml: MJML, variables }), 'TEMPLATE_INVALID', /subject.*nope/);
    assert.equal(renderCacheStats().size, 0);
  });

  it('never reads files through MJML or Liquid includes', async () => {
    const include = MJML.replace('<mj-section>', '<mj-include path="/etc/passwd" /><mj-section>');
    const out = await renderEmail({ subject: 'Hi', mjml: include, variables });
    assert.doesNotMatch(out.html, /root:/);
    const liquidInclude = MJML.replace('Hello', "{% include '/etc/passwd' %}Hello");
    await rejectsWithCode(renderEmail({ subject: 'Hi', mjml: liquidInclude, variables }), 'TEMPLATE_INVALID');
  });

  it('exposes contact attributes at top level without hiding the contact fields', () => {
    const vars = templateVariables({
      contact: { id: 'c-9', email: 'real@example.com', attributes: { email: 'attr@example.com', plan: 'free' } },
      event: { name: 'signup', properties: { a: 1 } },
      item: { x: 1 },
      unsubscribeUrl: 'https://u.test/3',
    });
    const contact = vars.contact as Record<string, unknown>;
    assert.equal(contact.email, 'real@example.com');
    assert.equal(contact.plan, 'free');
    assert.deepEqual(contact.attributes, { email: 'attr@example.com', plan: 'free' });
    assert.deepEqual(vars.event, { name: 'signup', properties: { a: 1 } });
    assert.equal(vars.unsubscribe_url, 'https://u.test/3');
  });

  it('renders per contact from a compiled template', async () => {
    const compiled = await compileEmail({ subject: '{{ contact.firstName }}', mjml: MJML });
    const a = await compiled.render(templateVariables({ contact: { attributes: { firstName: 'A' } }, event: {}, item: {} }));
    const b = await compiled.render(templateVariables({ contact: { attributes: { firstName: 'B' } }, event: {}, item: {} }));
    assert.equal(a.subject, 'A');
    assert.equal(b.subject, 'B');
    assert.equal(renderCacheStats().compiles, 1);
  });
});

describe('htmlToText', () => {
  it('turns blocks into lines, keeps link targets and decodes entities', () => {
    const html = `<html><head><title>T</title><style>p{color:red}</style></head><body>
      <!--[if mso]><table><tr><td><![endif]-->
      <div style="display:none;font-size:1px;max-height:0px;overflow:hidden;">Preheader</div>
      <div>Hello&nbsp;<b>Ada</b> &amp; friends</div>
      <p>Line one<br/>Line two</p>
      <a href="https://e.com/x">Click</a> <a href="https://e.com/y">https://e.com/y</a>
      <ul><li>one</li><li>two</li></ul></body></html>`;
    assert.equal(htmlToText(html), 'Hello Ada & friends\nLine one\nLine two\nClick (https://e.com/x) https://e.com/y\n- one\n- two');
  });
});
