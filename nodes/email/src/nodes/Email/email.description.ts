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
  subtitle: '={{ $parameter.templateSource === "stored" ? "Template: " + $parameter.template : $parameter.subject }}',
  description: 'Sends a personalised MJML email over SMTP',
  defaults: { name: 'CampaignOS Email' },
  inputs: [NodeConnectionTypes.Main],
  outputs: [NodeConnectionTypes.Main],
  credentials: [
    { name: 'campaignOsSmtp', required: true },
    { name: 'campaignOsApi', required: false },
  ],
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
      displayName: 'Template Source',
      name: 'templateSource',
      type: 'options',
      noDataExpression: true,
      options: [
        { name: 'Inline MJML', value: 'inline', description: 'Subject and MJML written in this node' },
        { name: 'Stored Template', value: 'stored', description: 'A template saved in CampaignOS (needs the CampaignOS API credential in n8n)' },
      ],
      default: 'inline',
    },
    {
      displayName: 'Template',
      name: 'template',
      type: 'string',
      required: true,
      default: '',
      placeholder: 'welcome',
      description: 'ID or exact name of a stored template (POST /v1/templates). A journey keeps the version it first rendered.',
      displayOptions: { show: { templateSource: ['stored'] } },
    },
    {
      displayName: 'Subject',
      name: 'subject',
      type: 'string',
      required: true,
      default: '',
      placeholder: 'Welcome, {{ contact.firstName | default: "friend" }}',
      description: 'Subject line; Liquid placeholders such as {{ contact.firstName }} are filled per contact',
      displayOptions: { show: { templateSource: ['inline'] } },
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
      displayOptions: { show: { templateSource: ['inline'] } },
    },
    {
      displayName: 'Text',
      name: 'text',
      type: 'string',
      typeOptions: { rows: 6 },
      default: '',
      description: 'Plain-text version (Liquid). Leave empty to derive it from the HTML.',
      displayOptions: { show: { templateSource: ['inline'] } },
    },
    {
      displayName: 'Reply To',
      name: 'replyTo',
      type: 'string',
      default: '',
      placeholder: 'support@example.com',
    },
    {
      displayName: 'Attachments',
      name: 'attachments',
      type: 'fixedCollection',
      typeOptions: { multipleValues: true },
      placeholder: 'Add Attachment',
      default: {},
      description: 'Files attached to every email, 10 MB in all',
      options: [
        {
          displayName: 'From URL',
          name: 'url',
          values: [
            {
              displayName: 'URL',
              name: 'url',
              type: 'string',
              default: '',
              placeholder: 'https://example.com/invoice.pdf',
              description: 'Fetched when the email is sent (http or https); the content type comes from the response',
            },
            {
              displayName: 'File Name',
              name: 'filename',
              type: 'string',
              default: '',
              description: 'Name shown to the recipient. Empty: the last part of the URL path.',
            },
          ],
        },
        {
          displayName: 'Inline Content',
          name: 'inline',
          values: [
            { displayName: 'File Name', name: 'filename', type: 'string', default: '', placeholder: 'ticket.txt' },
            { displayName: 'Content Type', name: 'contentType', type: 'string', default: 'application/octet-stream', placeholder: 'text/plain' },
            {
              displayName: 'Content (Base64)',
              name: 'content',
              type: 'string',
              typeOptions: { rows: 4 },
              default: '',
              description: 'The file, base64-encoded; an expression can generate it per contact',
            },
          ],
        },
        {
          displayName: 'Binary Property',
          name: 'binary',
          values: [
            {
              displayName: 'Property Name',
              name: 'property',
              type: 'string',
              default: 'data',
              description: 'Binary property of the incoming item (n8n only; journey items carry no binary data)',
            },
            { displayName: 'File Name', name: 'filename', type: 'string', default: '', description: "Empty: the binary data's own file name" },
          ],
        },
      ],
    },
  ],
};
