import { NodeConnectionTypes, type INodeTypeDescription } from 'n8n-workflow';

export const webPushDescription: INodeTypeDescription = {
  displayName: 'CampaignOS Web Push',
  name: 'webPush',
  icon: 'file:webpush.svg',
  group: ['output'],
  version: 1,
  subtitle: '={{ $parameter.title }}',
  description: 'Sends a personalised browser push notification (VAPID, encrypted with web-push)',
  defaults: { name: 'CampaignOS Web Push' },
  inputs: [NodeConnectionTypes.Main],
  outputs: [NodeConnectionTypes.Main],
  credentials: [
    // A key pair, not an API account: see VapidCampaign.credentials.ts.
    // eslint-disable-next-line n8n-nodes-base/node-class-description-credentials-name-unsuffixed
    { name: 'campaignOsVapid', required: true },
    { name: 'campaignOsApi', required: false },
  ],
  properties: [
    {
      displayName: 'Title',
      name: 'title',
      type: 'string',
      required: true,
      default: '',
      placeholder: 'Your cart misses you, {{ contact.firstName | default: "friend" }}',
      description: 'Notification title; Liquid placeholders such as {{ contact.firstName }} are filled per contact',
    },
    {
      displayName: 'Body',
      name: 'body',
      type: 'string',
      typeOptions: { rows: 3 },
      default: '',
      placeholder: 'The {{ event.properties.product }} is still waiting for you.',
      description: 'Notification text (Liquid: contact, event, item)',
    },
    {
      displayName: 'Click URL',
      name: 'url',
      type: 'string',
      default: '',
      placeholder: 'https://shop.example/cart',
      description: 'Page your service worker opens when the notification is clicked (Liquid allowed)',
    },
    {
      displayName: 'Icon URL',
      name: 'icon',
      type: 'string',
      default: '',
      placeholder: 'https://shop.example/icon-192.png',
      description: 'Image shown beside the notification (Liquid allowed)',
    },
    {
      displayName: 'Time To Live (Seconds)',
      name: 'ttl',
      type: 'number',
      typeOptions: { minValue: 0 },
      default: 86400,
      description: 'How long the push service keeps the notification for a device that is offline; 0 means deliver now or never',
    },
    {
      displayName: 'Urgency',
      name: 'urgency',
      type: 'options',
      options: [
        { name: 'Very Low', value: 'very-low', description: 'Delivered only on power and Wi-Fi' },
        { name: 'Low', value: 'low', description: 'Delivered on power or Wi-Fi' },
        { name: 'Normal', value: 'normal', description: 'Delivered unless the battery is low' },
        { name: 'High', value: 'high', description: 'Delivered at once, even on low battery' },
      ],
      default: 'normal',
      description: 'The Urgency header (RFC 8030): how eagerly the device is woken for this notification',
    },
    {
      displayName: 'Topic',
      name: 'topic',
      type: 'string',
      default: '',
      placeholder: 'cart-reminder',
      description:
        'Up to 32 URL-safe base64 characters (letters, digits, - and _). A newer notification with the same topic replaces one the device has not received yet.',
    },
    {
      displayName: 'Subscription',
      name: 'subscription',
      type: 'json',
      default: '={{ $json.subscription }}',
      description:
        'Used in n8n without a CampaignOS API credential: the browser PushSubscription as JSON, { "endpoint": "https://...", "keys": { "p256dh": "...", "auth": "..." } }. With the credential, and in a CampaignOS journey, the contact\'s registered subscriptions are used instead.',
    },
  ],
};
