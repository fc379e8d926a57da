import type { IDataObject, INodeType, INodeTypeDescription, INodeTypes, IVersionedNodeType } from 'n8n-workflow';
import type { NodeRegistry } from '../nodes/registry.js';
import { NATIVE_DESCRIPTIONS } from './native-descriptions.js';

/**
 * The node types a journey can hold, as n8n-workflow's `Workflow` wants them: descriptions
 * only (nothing here executes). Unknown types answer `undefined`, which `Workflow` tolerates:
 * it then leaves that node's parameters as they are.
 */
export class JourneyNodeTypes implements INodeTypes {
  private readonly cache = new Map<string, INodeType>();

  constructor(private readonly registry: NodeRegistry) {}

  description(type: string): INodeTypeDescription | undefined {
    return NATIVE_DESCRIPTIONS[type] ?? this.registry.get(type)?.description;
  }

  getByName(nodeType: string): INodeType | IVersionedNodeType {
    return this.getByNameAndVersion(nodeType);
  }

  getByNameAndVersion(nodeType: string): INodeType {
    let cached = this.cache.get(nodeType);
    if (!cached) {
      const description = this.description(nodeType);
      // The interface has no "unknown" answer; n8n's own Workflow checks for undefined.
      if (!description) return undefined as unknown as INodeType;
      cached = { description };
      this.cache.set(nodeType, cached);
    }
    return cached;
  }

  getKnownTypes(): IDataObject {
    return {};
  }
}
