import type { ICredentialType, INodeProperties } from 'n8n-workflow';

/** SMTP account the CampaignOS Email node sends through. n8n loads the class by the file's name. */
export class SmtpCampaign implements ICredentialType {
  name = 'campaignOsSmtp';

  displayName = 'CampaignOS SMTP';

  documentationUrl = 'https://github.com/campaignos/campaignos/tree/main/nodes/email#credentials';

  properties: INodeProperties[] = [
    { displayName: 'Host', name: 'host', type: 'string', default: '', required: true, placeholder: 'smtp.example.com' },
    { displayName: 'Port', name: 'port', type: 'number', default: 587 },
    {
      displayName: 'SSL/TLS',
      name: 'secure',
      type: 'boolean',
      default: false,
      description: 'Whether to use TLS from the first byte (port 465). Leave off for STARTTLS on 587.',
    },
    { displayName: 'User', name: 'user', type: 'string', default: '' },
    { displayName: 'Password', name: 'password', type: 'string', typeOptions: { password: true }, default: '' },
    { displayName: 'From Email', name: 'fromEmail', type: 'string', default: '', required: true, placeholder: 'news@example.com' },
    { displayName: 'From Name', name: 'fromName', type: 'string', default: '', placeholder: 'Example Team' },
  ];
}
