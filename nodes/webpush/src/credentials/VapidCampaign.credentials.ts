import type { ICredentialType, INodeProperties } from 'n8n-workflow';

// A VAPID key pair is not an API account (n8n's own non-API credentials such as Smtp or Imap are
// exempt from the -Api suffix), and `campaignOsVapid` is stored in every deployed workflow.
/** VAPID key pair the CampaignOS Web Push node signs with. n8n loads the class by the file's name. */
// eslint-disable-next-line n8n-nodes-base/cred-class-name-unsuffixed
export class VapidCampaign implements ICredentialType {
  // eslint-disable-next-line n8n-nodes-base/cred-class-field-name-unsuffixed
  name = 'campaignOsVapid';

  // eslint-disable-next-line n8n-nodes-base/cred-class-field-display-name-missing-api
  displayName = 'CampaignOS VAPID';

  documentationUrl = 'https://github.com/campaignos/campaignos/tree/main/nodes/webpush#credentials';

  properties: INodeProperties[] = [
    {
      displayName: 'Public Key',
      name: 'publicKey',
      // The public key is public (the site embeds it as applicationServerKey): shown, not masked.
      // eslint-disable-next-line n8n-nodes-base/cred-class-field-type-options-password-missing
      type: 'string',
      default: '',
      required: true,
      placeholder: 'BNcRdreALRFXTkOOUHK1EtK2wtaz5Ry4YfYCA_0QTpQtUbVlUls0VJXg7A8u-Ts1XbjhazAkj7I99e8QcYP7DkM',
      description: 'URL-safe base64 VAPID public key; the same key your site passes as applicationServerKey to pushManager.subscribe()',
    },
    {
      displayName: 'Private Key',
      name: 'privateKey',
      type: 'string',
      typeOptions: { password: true },
      default: '',
      required: true,
      description: 'URL-safe base64 VAPID private key (npx web-push generate-vapid-keys)',
    },
    {
      displayName: 'Subject',
      name: 'subject',
      type: 'string',
      default: '',
      required: true,
      placeholder: 'mailto:push@example.com',
      description: 'A mailto: address or https: URL where push services can reach the sender',
    },
  ];
}
