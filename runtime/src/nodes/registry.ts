import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { INodeTypeDescription } from 'n8n-workflow';
import { isDefinedNode, NODE_API_VERSION, type NodeDefinition } from '@campaignos/sdk';

/** A node type the runtime can execute, loaded from an n8n community-node package. */
export interface RegisteredNode {
  /** n8n's community type name: `<package>.<description.name>`. */
  type: string;
  packageName: string;
  typeVersions: number[];
  description: INodeTypeDescription;
  definition: NodeDefinition;
}

/** The first-party packages every runtime loads. */
export const BUILTIN_NODE_PACKAGES = ['@campaignos/n8n-nodes-triggers', '@campaignos/n8n-nodes-email', '@campaignos/n8n-nodes-webpush', '@campaignos/n8n-nodes-segments', '@campaignos/n8n-nodes-scoring', '@campaignos/n8n-nodes-sms', '@campaignos/n8n-nodes-telegram'];

export class NodeLoadError extends Error {
  readonly code = 'NODE_PACKAGE_INCOMPATIBLE';
}

/** The node types this runtime knows, by n8n type name. */
export class NodeRegistry {
  private readonly byType = new Map<string, RegisteredNode>();

  register(node: RegisteredNode): void {
    this.byType.set(node.type, node);
  }

  get(type: string): RegisteredNode | undefined {
    return this.byType.get(type);
  }

  list(): RegisteredNode[] {
    return [...this.byType.values()];
  }

  /**
   * Loads packages the way n8n does: the `n8n.nodes` files listed in each package.json.
   * A class not made with the CampaignOS SDK, or made for another node API version, is
   * refused with a NODE_PACKAGE_INCOMPATIBLE error that names it.
   */
  static load(packageNames: string[], resolveFrom: string = __dirname): NodeRegistry {
    const registry = new NodeRegistry();
    const require = createRequire(join(resolveFrom, 'noop.js'));
    for (const packageName of packageNames) {
      const manifestPath = require.resolve(`${packageName}/package.json`);
      const manifest = require(manifestPath) as { n8n?: { nodes?: string[] } };
      const nodeFiles = manifest.n8n?.nodes ?? [];
      if (nodeFiles.length === 0) throw new NodeLoadError(`${packageName}: package.json has no "n8n.nodes" list`);
      for (const file of nodeFiles) {
        const exported = require(join(dirname(manifestPath), file)) as Record<string, unknown>;
        const classes = Object.values(exported).filter(isDefinedNode);
        if (classes.length === 0) throw new NodeLoadError(`${packageName}/${file}: exports no node made with @campaignos/sdk defineNode`);
        for (const nodeClass of classes) {
          const { apiVersion, definition } = nodeClass.campaignos;
          if (apiVersion !== NODE_API_VERSION) {
            throw new NodeLoadError(`${packageName}/${file}: built for node API ${apiVersion}, this runtime supports ${NODE_API_VERSION}`);
          }
          const description = definition.description;
          const versions = Array.isArray(description.version) ? description.version : [description.version];
          registry.register({ type: `${packageName}.${description.name}`, packageName, typeVersions: versions, description, definition });
        }
      }
    }
    return registry;
  }
}
