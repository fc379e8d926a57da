import type { ChannelAddress } from '@campaignos/sdk';
import type { Db } from './db.js';

interface AddressRow {
  channel: string;
  address: string;
  data: Record<string, unknown>;
}

const toAddress = (row: AddressRow): ChannelAddress => ({ channel: row.channel, address: row.address, data: row.data });

/**
 * Where a contact can be reached beyond its email and phone: web push subscriptions (address =
 * endpoint) and Telegram chats (address = chat id). One contact may have several per channel.
 */
export function addressesStore(db: Db) {
  return {
    async list(workspaceId: string, contactId: string, channel?: string): Promise<ChannelAddress[]> {
      const query = db('contact_addresses').where({ workspace_id: workspaceId, contact_id: contactId });
      if (channel) query.where({ channel });
      const rows: AddressRow[] = await query.orderBy('created_at').select('channel', 'address', 'data');
      return rows.map(toAddress);
    },

    /** Adds or refreshes an address; an address belongs to one contact, so it moves if it was elsewhere. */
    async put(workspaceId: string, contactId: string, address: ChannelAddress): Promise<void> {
      await db.transaction(async (tx) => {
        await tx('contact_addresses')
          .where({ workspace_id: workspaceId, channel: address.channel, address: address.address })
          .whereNot({ contact_id: contactId })
          .delete();
        await tx('contact_addresses')
          .insert({ workspace_id: workspaceId, contact_id: contactId, channel: address.channel, address: address.address, data: address.data })
          .onConflict(['workspace_id', 'channel', 'address'])
          .merge({ data: address.data, updated_at: tx.fn.now() });
      });
    },

    /** Returns whether there was such an address. */
    async remove(workspaceId: string, contactId: string, channel: string, address: string): Promise<boolean> {
      const n = await db('contact_addresses').where({ workspace_id: workspaceId, contact_id: contactId, channel, address }).delete();
      return n > 0;
    },

    /** The contact an address belongs to (a Telegram chat writing to the bot), if any. */
    async owner(workspaceId: string, channel: string, address: string): Promise<string | null> {
      const row = await db('contact_addresses').where({ workspace_id: workspaceId, channel, address }).first('contact_id');
      return (row?.contact_id as string | undefined) ?? null;
    },
  };
}
