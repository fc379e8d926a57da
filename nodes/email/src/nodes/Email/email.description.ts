import { NodeConnectionTypes, type INodeTypeDescription } from 'n8n-workflow';

const EXAMPLE_MJML = `<mjml>
  <mj-body>
    <mj-section>
      <mj-column>
        <mj-text>Hi {{ contact.attributes.firstName | default: "there" }},</mj-text>
        <mj-text>Thanks for choosing the {{ event.properties.plan }} plan.</mj-text>
        <mj-text font-size="12px"><a href="{{ unsubscribe_url }}">Unsubscribe</a></mj-text>
      </mj-column>
    </mj-section>
  </mj-body>
</mjml>`;

export const emailDescription: INodeTypeDescription = {
  displayName: 'CampaignOS Email',
  name: 'email',
  icon: 'file:email.svg',
  group: ['output'],
  version: 1,
  subtitle: '={{ $parameter.subject }}',
  description: 'Sends a personalised MJML email over SMTP',
  defaults: { name: 'CampaignOS Email' },
  inputs: [NodeConnectionTypes.Main],
  outputs: [NodeConnectionTypes.Main],
  credentials: [{ name: 'campaignOsSmtp', required: true }],
  properties: [
    {
      displayName: 'To Email',
      name: 'toEmail',
      type: 'string',
      default: '={{ $json.contact.email }}',
      placeholder: 'ada@example.com',
      description: "Recipient address. In a CampaignOS journey an empty value means the contact's email.",
    },
    {
      displayName: 'Subject',
      name: 'subject',
      type: 'string',
      required: true,
      default: '',
      placeholder: 'Welcome, {{ contact.firstName | default: "friend" }}',
      description: 'Subject line; Liquid placeholders such as {{ contact.firstName }} are filled per contact',
    },
    {
      displayName: 'MJML',
      name: 'mjml',
      type: 'string',
      typeOptions: { rows: 12 },
      required: true,
      default: '',
      placeholder: EXAMPLE_MJML,
      description:
        'MJML document with Liquid placeholders (contact, event, item, unsubscribe_url). Values are HTML-escaped. Without an {{ unsubscribe_url }} link CampaignOS appends one.',
    },
    {
      displayName: 'Text',
      name: 'text',
      type: 'string',
      typeOptions: { rows: 6 },
      default: '',
      description: 'Plain-text version (Liquid). Leave empty to derive it from the HTML.',
    },
    {
      displayName: 'Reply To',
      name: 'replyTo',
      type: 'string',
      default: '',
      placeholder: 'support@example.com',
    },
  ],
};
