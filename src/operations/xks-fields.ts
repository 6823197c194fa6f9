// The members CreateCustomKeyStore and UpdateCustomKeyStore share, with the model's constraints.
import { optional, required, str, struct } from '../protocol/validate.js'

export const xksMembers = {
  CloudHsmClusterId: optional(str({ min: 19, max: 24, pattern: /^cluster-[2-7a-zA-Z]{11,16}$/, patternText: 'cluster-[2-7a-zA-Z]{11,16}' })),
  KeyStorePassword: optional(str({ min: 7, max: 32, sensitive: true })),
  XksProxyUriEndpoint: optional(str({ min: 10, max: 128, pattern: /^https:\/\/[a-zA-Z0-9.-]+$/ })),
  XksProxyUriPath: optional(str({ min: 10, max: 128, pattern: /^(\/[a-zA-Z0-9/_-]+\/kms\/xks\/v\d{1,2})$|^(\/kms\/xks\/v\d{1,2})$/ })),
  XksProxyVpcEndpointServiceName: optional(str({ min: 20, max: 64, pattern: /^(com|eu)\.amazonaws\.vpce\.([a-z]+-){2,3}\d+\.vpce-svc-[0-9a-z]+$/ })),
  XksProxyVpcEndpointServiceOwner: optional(str({ min: 12, max: 12, pattern: /^[0-9]{12}$/, patternText: '[0-9]{12}' })),
  XksProxyAuthenticationCredential: optional(
    struct({
      AccessKeyId: required(str({ min: 20, max: 30, pattern: /^[A-Z2-7]+$/, sensitive: true })),
      RawSecretAccessKey: required(str({ min: 43, max: 64, pattern: /^[a-zA-Z0-9/+=]+$/, sensitive: true })),
    }),
  ),
  XksProxyConnectivity: optional(str({ enum: ['PUBLIC_ENDPOINT', 'VPC_ENDPOINT_SERVICE'] as const })),
}
