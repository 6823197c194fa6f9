// THE list of operations: X-Amz-Target `TrentService.<name>` -> handler. Nothing else dispatches.
// One operation per file, named after it, as the KMS API reference lists them.
import { cancelKeyDeletion } from './cancel-key-deletion.js'
import { connectCustomKeyStore } from './connect-custom-key-store.js'
import { createAlias } from './create-alias.js'
import { createCustomKeyStore } from './create-custom-key-store.js'
import { createGrant } from './create-grant.js'
import { createKey } from './create-key.js'
import { decrypt } from './decrypt.js'
import { deleteAlias } from './delete-alias.js'
import { deleteCustomKeyStore } from './delete-custom-key-store.js'
import { deleteImportedKeyMaterial } from './delete-imported-key-material.js'
import { deriveSharedSecret } from './derive-shared-secret.js'
import { describeCustomKeyStores } from './describe-custom-key-stores.js'
import { describeKey } from './describe-key.js'
import { disableKey } from './disable-key.js'
import { disableKeyRotation } from './disable-key-rotation.js'
import { disconnectCustomKeyStore } from './disconnect-custom-key-store.js'
import { enableKey } from './enable-key.js'
import { enableKeyRotation } from './enable-key-rotation.js'
import { encrypt } from './encrypt.js'
import { generateDataKey } from './generate-data-key.js'
import { generateDataKeyPair } from './generate-data-key-pair.js'
import { generateDataKeyPairWithoutPlaintext } from './generate-data-key-pair-without-plaintext.js'
import { generateDataKeyWithoutPlaintext } from './generate-data-key-without-plaintext.js'
import { generateMac } from './generate-mac.js'
import { generateRandom } from './generate-random.js'
import { getKeyLastUsage } from './get-key-last-usage.js'
import { getKeyPolicy } from './get-key-policy.js'
import { getKeyRotationStatus } from './get-key-rotation-status.js'
import { getParametersForImport } from './get-parameters-for-import.js'
import { getPublicKey } from './get-public-key.js'
import { importKeyMaterial } from './import-key-material.js'
import { listAliases } from './list-aliases.js'
import { listGrants } from './list-grants.js'
import { listKeyPolicies } from './list-key-policies.js'
import { listKeyRotations } from './list-key-rotations.js'
import { listKeys } from './list-keys.js'
import { listResourceTags } from './list-resource-tags.js'
import { listRetirableGrants } from './list-retirable-grants.js'
import { putKeyPolicy } from './put-key-policy.js'
import { reEncrypt } from './re-encrypt.js'
import { replicateKey } from './replicate-key.js'
import { retireGrant } from './retire-grant.js'
import { revokeGrant } from './revoke-grant.js'
import { rotateKeyOnDemand } from './rotate-key-on-demand.js'
import { scheduleKeyDeletion } from './schedule-key-deletion.js'
import { sign } from './sign.js'
import { tagResource } from './tag-resource.js'
import { untagResource } from './untag-resource.js'
import { updateAlias } from './update-alias.js'
import { updateCustomKeyStore } from './update-custom-key-store.js'
import { updateKeyDescription } from './update-key-description.js'
import { updatePrimaryRegion } from './update-primary-region.js'
import { verify } from './verify.js'
import { verifyMac } from './verify-mac.js'
import type { Operation } from './define.js'

const all: readonly Operation[] = [
  cancelKeyDeletion,
  connectCustomKeyStore,
  createAlias,
  createCustomKeyStore,
  createGrant,
  createKey,
  decrypt,
  deleteAlias,
  deleteCustomKeyStore,
  deleteImportedKeyMaterial,
  deriveSharedSecret,
  describeCustomKeyStores,
  describeKey,
  disableKey,
  disableKeyRotation,
  disconnectCustomKeyStore,
  enableKey,
  enableKeyRotation,
  encrypt,
  generateDataKey,
  generateDataKeyPair,
  generateDataKeyPairWithoutPlaintext,
  generateDataKeyWithoutPlaintext,
  generateMac,
  generateRandom,
  getKeyLastUsage,
  getKeyPolicy,
  getKeyRotationStatus,
  getParametersForImport,
  getPublicKey,
  importKeyMaterial,
  listAliases,
  listGrants,
  listKeyPolicies,
  listKeyRotations,
  listKeys,
  listResourceTags,
  listRetirableGrants,
  putKeyPolicy,
  reEncrypt,
  replicateKey,
  retireGrant,
  revokeGrant,
  rotateKeyOnDemand,
  scheduleKeyDeletion,
  sign,
  tagResource,
  untagResource,
  updateAlias,
  updateCustomKeyStore,
  updateKeyDescription,
  updatePrimaryRegion,
  verify,
  verifyMac,
]

/** Operations by name, in a prototype-free object: look names up with Object.hasOwn. */
export const OPERATIONS: Readonly<Record<string, Operation>> = Object.freeze(
  Object.assign(Object.create(null) as Record<string, Operation>, Object.fromEntries(all.map((op) => [op.name, op]))),
)
