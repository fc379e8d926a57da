#!/usr/bin/env node
// Drives the welcome series against a running CampaignOS (`npm start` in the repository root).
//
//   node examples/welcome-series/drive.mjs                 # the real three-day wait
//   WAIT_UNIT=seconds node examples/welcome-series/drive.mjs   # "3 days" becomes 3 seconds
//
// It starts a small SMTP server on 127.0.0.1 that prints what arrives, points a credential at
// it, deploys the workflow, signs up two contacts and shows their journeys and messages.
import { readFileSync, existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SMTPServer } from 'smtp-server';
import { simpleParser } from 'mailparser';

const here = dirname(fileURLToPath(import.meta.url));
const devFile = resolve(process.env.CAMPAIGNOS_DATA_DIR ?? join(here, '..', '..', '.campaignos'), 'dev.json');
const saved = existsSync(devFile) ? JSON.parse(readFileSync(devFile, 'utf8')) : {};
const url = process.env.CAMPAIGNOS_URL ?? saved.url;
const key = process.env.CAMPAIGNOS_API_KEY ?? saved.apiKey;
if (!url || !key) {
  console.error('No running CampaignOS found: start one with `npm start`, or set CAMPAIGNOS_URL and CAMPAIGNOS_API_KEY.');
  process.exit(2);
}
const waitUnit = process.env.WAIT_UNIT ?? 'days';

async function api(method, path, body) {
  const res = await fetch(`${url}${path}`, {
    method,
    headers: { authorization: `Bearer ${key}`, ...(body && { 'content-type': 'application/json' }) },
    body: body && JSON.stringify(body),
  });
  const json = await res.json();
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${json.error?.message ?? ''}\n  ${(json.error?.details?.problems ?? []).join('\n  ')}`);
  return json;
}

const received = [];
const smtp = new SMTPServer({
  authOptional: true,
  disabledCommands: ['STARTTLS', 'AUTH'],
  logger: false,
  onData(stream, session, done) {
    const to = session.envelope.rcptTo.map((r) => r.address).join(', ');
    simpleParser(stream).then((mail) => {
      received.push(mail);
      console.log(`  📨 to ${to}: "${mail.subject}"`);
      done();
    }, done);
  },
});
await new Promise((r) => smtp.listen(0, '127.0.0.1', r));
const smtpPort = smtp.server.address().port;
console.log(`CampaignOS at ${url}; a local SMTP sink listens on 127.0.0.1:${smtpPort}`);

await api('POST', '/v1/credentials', { name: 'Acme SMTP', type: 'campaignOsSmtp', data: { host: '127.0.0.1', port: smtpPort, secure: false, fromEmail: 'hello@acme.example', fromName: 'Acme' } });
const workflow = JSON.parse(readFileSync(join(here, 'welcome-series.workflow.json'), 'utf8'));
for (const node of workflow.nodes) if (node.type === 'n8n-nodes-base.wait') node.parameters.unit = waitUnit;
const deployed = await api('POST', '/v1/workflows?activate=true', workflow);
console.log(`Deployed "${workflow.name}" as ${deployed.workflow.id} (version ${deployed.version.version}), waiting 3 ${waitUnit}`);

const run = Date.now().toString(36);
const people = [
  { name: 'Ada', plan: 'pro' },
  { name: 'Grace', plan: 'free' },
];
const contacts = [];
for (const p of people) {
  const { contact } = await api('POST', '/v1/contacts', { externalId: `${p.name.toLowerCase()}-${run}`, email: `${p.name.toLowerCase()}+${run}@example.com`, attributes: { firstName: p.name, plan: p.plan } });
  contacts.push(contact);
  await api('POST', '/v1/events', { name: 'signup', contactId: contact.id, properties: { plan: p.plan } });
  console.log(`Signed up ${p.name} (${p.plan}) as contact ${contact.id}`);
}

const expected = waitUnit === 'seconds' || waitUnit === 'minutes' ? 4 : 2;
const deadline = Date.now() + (waitUnit === 'minutes' ? 5 * 60_000 : 60_000);
while (received.length < expected && Date.now() < deadline) await new Promise((r) => setTimeout(r, 250));

for (const contact of contacts) {
  const { journeys } = await api('GET', `/v1/contacts/${contact.id}/journeys`);
  const { messages } = await api('GET', `/v1/messages?contactId=${contact.id}`);
  console.log(`\n${contact.attributes.firstName}: journey ${journeys[0]?.status ?? 'not started'} at "${journeys[0]?.currentNode ?? '-'}"`);
  for (const m of messages.reverse()) console.log(`  ${m.createdAt}  ${m.nodeName}: ${m.status}${m.reason ? ` (${m.reason})` : ''}`);
}
if (expected === 2) console.log('\nThe journeys now sleep for three days (durably: restart anything you like). Run with WAIT_UNIT=seconds to see the whole series.');
smtp.close();
