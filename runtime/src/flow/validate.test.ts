import test from 'node:test';
import assert from 'node:assert/strict';
import { parseWorkflowJson } from './workflow-json.js';
import { validateWorkflow } from './validate.js';
import { EMAIL_TYPE, TRIGGER_TYPE, node, testRegistry, trigger, workflow } from './fixtures.test.js';

const registry = testRegistry();
const email = (name: string, parameters: Record<string, unknown> = { subject: 'Hi', bodyHtml: '<p>Hi</p>' }, extra: Record<string, unknown> = {}) =>
  node(name, EMAIL_TYPE, 1, parameters, extra);
const isPro = node('Is pro?', 'n8n-nodes-base.if', 2.2, {
  conditions: {
    options: { caseSensitive: true, leftValue: '', typeValidation: 'strict', version: 2 },
    conditions: [{ id: 'c1', leftValue: '={{ $json.plan }}', rightValue: 'pro', operator: { type: 'string', operation: 'equals' } }],
    combinator: 'and',
  },
  options: {},
});

test('parseWorkflowJson names the paths that are wrong', () => {
  const result = parseWorkflowJson({ name: 'x', nodes: [{ name: 'A', type: TRIGGER_TYPE, typeVersion: 1 }, { name: 'B', type: 3, typeVersion: 1 }, { type: 'x' }], connections: { A: { main: [[{ node: 7 }]] } } });
  assert.equal(result.ok, false);
  assert.ok(!result.ok);
  assert.deepEqual(result.problems, [
    'nodes[1].type: expected a string, got number (node "B")',
    'nodes[2].name: is required (expected a string)',
    'nodes[2].typeVersion: is required (expected a number)',
    'connections.A.main[0][0].node: expected a string, got number',
  ]);
  assert.deepEqual(parseWorkflowJson('{"name": '), { ok: false, problems: [`the workflow is not valid JSON: ${(() => { try { JSON.parse('{"name": '); } catch (e) { return (e as Error).message; } return ''; })()}`] });
});

test('parseWorkflowJson keeps unknown keys and fills n8n defaults', () => {
  const result = parseWorkflowJson({ name: 'x', nodes: [{ name: 'A', type: TRIGGER_TYPE, typeVersion: 1, newN8nField: true }], meta: { instanceId: 'abc' }, somethingNew: 1 });
  assert.ok(result.ok);
  assert.deepEqual(result.workflow.nodes[0]!.parameters, {});
  assert.deepEqual(result.workflow.connections, {});
  assert.equal((result.workflow as Record<string, unknown>).somethingNew, 1);
  assert.equal((result.workflow.nodes[0] as Record<string, unknown>).newN8nField, true);
});

test('a valid journey yields a plan with structure only', () => {
  const wf = workflow(
    [
      trigger('Signup'),
      isPro,
      email('Pro welcome'),
      email('Free welcome', { subject: '=Hi {{ $json.name }}', format: 'text', bodyText: 'Hello' }),
      node('Later', 'n8n-nodes-base.wait', 1.1, { amount: 2, unit: 'days' }),
      node('Mark', 'n8n-nodes-base.set', 3.4, { assignments: { assignments: [{ id: 'a', name: 'welcomed', value: true, type: 'boolean' }] }, options: {} }, { disabled: true }),
      node('Note', 'n8n-nodes-base.stickyNote', 1, { content: '## Welcome journey' }),
    ],
    [
      ['Signup', 'Is pro?'],
      ['Is pro?', 'Pro welcome', 0],
      ['Is pro?', 'Later', 1],
      ['Later', 'Mark'],
      ['Mark', 'Free welcome'],
    ],
  );
  const { problems, plan } = validateWorkflow(wf, registry);
  assert.deepEqual(problems, []);
  assert.deepEqual(plan, {
    trigger: 'Signup',
    nodes: {
      Signup: { kind: 'trigger', type: TRIGGER_TYPE, outputs: [[{ node: 'Is pro?', inputIndex: 0 }]] },
      'Is pro?': { kind: 'if', type: 'n8n-nodes-base.if', outputs: [[{ node: 'Pro welcome', inputIndex: 0 }], [{ node: 'Later', inputIndex: 0 }]] },
      'Pro welcome': { kind: 'action', type: EMAIL_TYPE, outputs: [[]] },
      'Free welcome': { kind: 'action', type: EMAIL_TYPE, outputs: [[]] },
      Later: { kind: 'wait', type: 'n8n-nodes-base.wait', outputs: [[{ node: 'Mark', inputIndex: 0 }]] },
      Mark: { kind: 'set', type: 'n8n-nodes-base.set', outputs: [[{ node: 'Free welcome', inputIndex: 0 }]], disabled: true },
    },
  });
  assert.doesNotMatch(JSON.stringify(plan), /\{\{|subject|conditions/, 'the plan holds no parameters');
});

test('Switch outputs follow its rules and fallback; an error output comes last', () => {
  const rule = (value: string) => ({
    conditions: { options: { caseSensitive: true, leftValue: '', typeValidation: 'strict', version: 2 }, conditions: [{ id: value, leftValue: '={{ $json.plan }}', rightValue: value, operator: { type: 'string', operation: 'equals' } }], combinator: 'and' },
  });
  const route = node('Route', 'n8n-nodes-base.switch', 3.2, { rules: { values: [rule('pro'), rule('free')] }, options: { fallbackOutput: 'extra' } }, { onError: 'continueErrorOutput' });
  const wf = workflow([trigger(), route, email('Pro'), email('Other')], [['Signup', 'Route'], ['Route', 'Pro', 0], ['Route', 'Other', 2]]);
  const { problems, plan } = validateWorkflow(wf, registry);
  assert.deepEqual(problems, []);
  assert.deepEqual(plan!.nodes.Route!.outputs, [[{ node: 'Pro', inputIndex: 0 }], [], [{ node: 'Other', inputIndex: 0 }], []]);
});

test('unknown node types are all listed, with what they probably are', () => {
  const wf = workflow(
    [
      node('Start', 'n8n-nodes-base.manualTrigger', 1),
      trigger(),
      node('Call CRM', 'n8n-nodes-base.httpRequest', 4.2, { url: 'https://crm.example.com' }),
      node('Code', 'n8n-nodes-base.code', 2, { jsCode: 'return items' }),
      node('Slack it', 'n8n-nodes-acme.slackPlus', 1),
      node('Old idea', 'n8n-nodes-base.airtable', 2, {}, { disabled: true }),
    ],
    [['Signup', 'Call CRM'], ['Call CRM', 'Code'], ['Code', 'Slack it']],
  );
  const { problems, plan } = validateWorkflow(wf, registry);
  assert.equal(plan, null);
  assert.deepEqual(problems, [
    `Node "Start": n8n-nodes-base.manualTrigger is an n8n trigger; a journey starts from a CampaignOS trigger such as ${TRIGGER_TYPE}`,
    'Node "Call CRM": unknown node type "n8n-nodes-base.httpRequest"; it may be an n8n node that CampaignOS journeys do not support (supported n8n nodes: Wait, If, Switch, Filter, No Operation, Edit Fields)',
    'Node "Code": unknown node type "n8n-nodes-base.code"; it may be an n8n node that CampaignOS journeys do not support (supported n8n nodes: Wait, If, Switch, Filter, No Operation, Edit Fields)',
    'Node "Slack it": unknown node type "n8n-nodes-acme.slackPlus"; package "n8n-nodes-acme" is not loaded in this runtime, or has no such node',
  ]);
});

test('connections to or from missing nodes, duplicate names and trigger count are reported', () => {
  const wf = workflow([trigger('Signup'), trigger('Signup again'), email('Welcome'), email('Welcome')], [
    ['Signup', 'Welcome'],
    ['Signup', 'Welcom'],
    ['Ghost', 'Welcome'],
    ['Welcome', 'Signup again'],
  ]);
  const { problems } = validateWorkflow(wf, registry);
  assert.deepEqual(problems, [
    'Node name "Welcome" is used by 2 nodes; node names must be unique',
    'connection from "Signup" points to "Welcom", which is not a node',
    'connection from "Ghost", which is not a node',
    'connection from "Welcome" points to "Signup again", a trigger, which cannot receive items',
    'The workflow has 2 triggers ("Signup", "Signup again"); a journey starts from exactly one',
  ]);
  assert.deepEqual(validateWorkflow(workflow([email('Alone')], []), registry).problems, [`The workflow has no enabled CampaignOS trigger; add one of: ${TRIGGER_TYPE}`]);
});

test('registered node parameters: required (honouring displayOptions), options, types, versions', () => {
  const wf = workflow(
    [
      trigger(),
      email('No subject', { bodyHtml: '<p>x</p>' }),
      email('Text mail', { subject: '={{ $json.subject }}', format: 'text', bodyText: '' }),
      email('Bad values', { subject: 'Hi', bodyHtml: 'x', format: 'pdf', priority: 'high', trackOpens: 'yes', options: { maxRetries: '3' } }),
      node('Future', EMAIL_TYPE, 3, { subject: 'Hi', bodyHtml: 'x' }),
    ],
    [['Signup', 'No subject'], ['No subject', 'Text mail'], ['Text mail', 'Bad values'], ['Bad values', 'Future']],
  );
  assert.deepEqual(validateWorkflow(wf, registry).problems, [
    'Send Email "Future": @campaignos/n8n-nodes-email.email version 3 is not supported (this runtime has 1, 2 from @campaignos/n8n-nodes-email)',
    'Send Email "No subject": parameter "subject" (Subject) is required',
    'Send Email "Text mail": parameter "bodyText" (Text Body) is required',
    'Send Email "Bad values": parameter "format" (Format) must be one of "html", "text" (got "pdf")',
    'Send Email "Bad values": parameter "priority" (Priority) must be a number (got "high")',
    'Send Email "Bad values": parameter "trackOpens" (Track Opens) must be true or false (got "yes")',
    'Send Email "Bad values": parameter "options.maxRetries" (Max Retries) must be a number (got "3")',
  ]);
});

test('native node parameters: webhook waits, bad options, bad conditions, bad fallback, bad JSON', () => {
  const wf = workflow(
    [
      trigger(),
      node('Wait for click', 'n8n-nodes-base.wait', 1.1, { resume: 'webhook', httpMethod: 'POST', options: {} }),
      node('Wait weeks', 'n8n-nodes-base.wait', 1.1, { amount: 2, unit: 'weeks' }),
      node('Check', 'n8n-nodes-base.if', 2.2, {
        conditions: {
          options: { caseSensitive: true, leftValue: '', typeValidation: 'strict', version: 2 },
          conditions: [
            { id: 'a', leftValue: '={{ $json.age }}', rightValue: 'eighteen', operator: { type: 'number', operation: 'gt' } },
            { id: 'b', leftValue: '={{ $json.plan }}', rightValue: 'pro', operator: { type: 'string', operation: 'sounds like' } },
          ],
          combinator: 'and',
        },
      }),
      node('Route', 'n8n-nodes-base.switch', 3.2, { rules: { values: [{ conditions: {} }] }, options: { fallbackOutput: 3 } }),
      node('Raw', 'n8n-nodes-base.set', 3.4, { mode: 'raw', jsonOutput: '[1, 2]' }),
      node('Old if', 'n8n-nodes-base.if', 1, {}),
    ],
    [['Signup', 'Wait for click'], ['Wait for click', 'Wait weeks'], ['Wait weeks', 'Check'], ['Check', 'Route'], ['Route', 'Raw'], ['Raw', 'Old if']],
  );
  assert.deepEqual(validateWorkflow(wf, registry).problems, [
    'If "Old if": n8n-nodes-base.if version 1 is not supported (supported: 2, 2.1, 2.2, 2.3); re-create the node in a current n8n',
    'Wait "Wait for click": resume=webhook is not supported by CampaignOS journeys; use timeInterval or specificTime',
    'Wait "Wait weeks": parameter "unit" (Wait Unit) must be one of "seconds", "minutes", "hours", "days" (got "weeks")',
    `If "Check": parameter "conditions" (Conditions): condition 1: Wrong type: 'eighteen' is a string but was expecting a number`,
    'If "Check": parameter "conditions" (Conditions): condition 2 has an unknown operator "string":"sounds like"',
    'Switch "Route": options.fallbackOutput must be "none", "extra" or the index of a rule\'s output (0 to 0); got 3',
    'Edit Fields "Raw": jsonOutput must be a JSON object',
  ]);
});

test('a connection from an output the node does not have is reported', () => {
  const wf = workflow([trigger(), email('Welcome'), email('Next')], [['Signup', 'Welcome'], ['Welcome', 'Next', 1]]);
  assert.deepEqual(validateWorkflow(wf, registry).problems, ['connection from output 1 of "Welcome" is invalid: "Welcome" has 1 output']);
});
