// AWS KMS API Reference > CreateCustomKeyStore: no AWS CloudHSM cluster and no external key store
// proxy is reachable from this service (see custom-key-stores.ts).
import { CloudHsmClusterNotFoundException, XksProxyUriUnreachableException } from '../protocol/errors.js'
import { optional, required, str } from '../protocol/validate.js'
import { customKeyStoreName } from './custom-key-stores.js'
import { defineOperation } from './define.js'
import { xksMembers } from './xks-fields.js'

export const createCustomKeyStore = defineOperation({
  name: 'CreateCustomKeyStore',
  request: {
    CustomKeyStoreName: required(customKeyStoreName),
    TrustAnchorCertificate: optional(str({ min: 1, max: 5000 })),
    CustomKeyStoreType: optional(str({ enum: ['AWS_CLOUDHSM', 'EXTERNAL_KEY_STORE'] as const })),
    ...xksMembers,
  },
  run(ctx, req) {
    ctx.authorizeAccount('kms:CreateCustomKeyStore')
    if ((req.CustomKeyStoreType ?? 'AWS_CLOUDHSM') === 'EXTERNAL_KEY_STORE') {
      throw new XksProxyUriUnreachableException('The external key store proxy cannot be reached from this service.')
    }
    const cluster = req.CloudHsmClusterId === undefined ? 'The AWS CloudHSM cluster' : `AWS CloudHSM cluster ${req.CloudHsmClusterId}`
    throw new CloudHsmClusterNotFoundException(`${cluster} does not exist or cannot be reached from this service.`)
  },
})
