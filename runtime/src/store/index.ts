import type { Db } from './db.js';
import { addressesStore } from './addresses.store.js';
import { contactsStore } from './contacts.store.js';
import { credentialsStore } from './credentials.store.js';
import { journeysStore } from './journeys.store.js';
import { listsStore } from './lists.store.js';
import { messagesStore } from './messages.store.js';
import { templatesStore } from './templates.store.js';
import { workflowsStore } from './workflows.store.js';
import { workspacesStore } from './workspaces.store.js';

export { createDb, migrate, type Db } from './db.js';
export { ContactConflictError, isUuid, type Contact, type ContactUpsert } from './contacts.store.js';
export type { CredentialInfo } from './credentials.store.js';
export type { JourneyRecord, JourneyStatus, JourneyStep } from './journeys.store.js';
export type { MessageRecord } from './messages.store.js';
export type { StaticList } from './lists.store.js';
export { TemplateNameTakenError, type EmailTemplateContent, type EmailTemplateVersion } from './templates.store.js';
export type { WorkflowSummary, WorkflowVersion } from './workflows.store.js';

/** Every table the runtime owns, behind workspace-scoped functions. */
export function createStore(db: Db, secret: string) {
  return {
    db,
    workspaces: workspacesStore(db),
    contacts: contactsStore(db),
    addresses: addressesStore(db),
    credentials: credentialsStore(db, secret),
    workflows: workflowsStore(db),
    journeys: journeysStore(db),
    messages: messagesStore(db),
    lists: listsStore(db),
    templates: templatesStore(db),
  };
}

export type Store = ReturnType<typeof createStore>;
