// THE list of operations: X-Amz-Target `TrentService.<name>` -> handler. Nothing else dispatches.
import { cancelKeyDeletion } from './cancel-key-deletion.js'
import { createAlias } from './create-alias.js'
import { createKey } from './create-key.js'
import type { Operation } from './define.js'
import { deleteAlias } from './delete-alias.js'
import { describeKey } from './describe-key.js'
import { disableKey } from './disable-key.js'
import { enableKey } from './enable-key.js'
import { generateMac } from './generate-mac.js'
import { generateRandom } from './generate-random.js'
import { getKeyPolicy, listKeyPolicies } from './get-key-policy.js'
import * as grants from './grants.js'
import * as importOps from './import.js'
import * as multiRegion from './multi-region.js'
import { putKeyPolicy } from './put-key-policy.js'
import { listAliases } from './list-aliases.js'
import { listKeys } from './list-keys.js'
import { listResourceTags } from './list-resource-tags.js'
import * as refused from './other-key-usages.js'
import * as rotation from './rotation.js'
import { scheduleKeyDeletion } from './schedule-key-deletion.js'
import { tagResource } from './tag-resource.js'
import { untagResource } from './untag-resource.js'
import { updateAlias } from './update-alias.js'
import { updateKeyDescription } from './update-key-description.js'
import { verifyMac } from './verify-mac.js'

const all: readonly Operation[] = [
  createKey,
  describeKey,
  listKeys,
  generateMac,
  verifyMac,
  enableKey,
  disableKey,
  scheduleKeyDeletion,
  cancelKeyDeletion,
  updateKeyDescription,
  createAlias,
  updateAlias,
  deleteAlias,
  listAliases,
  tagResource,
  untagResource,
  listResourceTags,
  getKeyPolicy,
  putKeyPolicy,
  listKeyPolicies,
  grants.createGrant,
  grants.listGrants,
  grants.listRetirableGrants,
  grants.retireGrant,
  grants.revokeGrant,
  importOps.getParametersForImport,
  importOps.importKeyMaterial,
  importOps.deleteImportedKeyMaterial,
  multiRegion.replicateKey,
  multiRegion.updatePrimaryRegion,
  rotation.getKeyRotationStatus,
  rotation.enableKeyRotation,
  rotation.disableKeyRotation,
  rotation.rotateKeyOnDemand,
  rotation.listKeyRotations,
  generateRandom,
  refused.encrypt,
  refused.decrypt,
  refused.reEncrypt,
  refused.generateDataKey,
  refused.generateDataKeyWithoutPlaintext,
  refused.generateDataKeyPair,
  refused.generateDataKeyPairWithoutPlaintext,
  refused.sign,
  refused.verify,
  refused.deriveSharedSecret,
  refused.getPublicKey,
]

/** Operations by name, in a prototype-free object: look names up with Object.hasOwn. */
export const OPERATIONS: Readonly<Record<string, Operation>> = Object.freeze(
  Object.assign(Object.create(null) as Record<string, Operation>, Object.fromEntries(all.map((op) => [op.name, op]))),
)
