// The custom key store operations: modeled answers (HMAC keys cannot live in custom key stores,
// and this service has none), never UnknownOperationException, which no SDK models.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import {
  ConnectCustomKeyStoreCommand,
  CreateCustomKeyStoreCommand,
  DeleteCustomKeyStoreCommand,
  DescribeCustomKeyStoresCommand,
  DisconnectCustomKeyStoreCommand,
  UpdateCustomKeyStoreCommand,
} from '@aws-sdk/client-kms'
import { startKms } from '../helpers/server.js'
import { rejectsWith } from '../helpers/keys.js'

describe('custom key stores', () => {
  it('lists none, and answers the modeled not-found errors', async (t) => {
    const { kms } = await startKms(t)
    const listed = await kms.send(new DescribeCustomKeyStoresCommand({}))
    assert.deepEqual(listed.CustomKeyStores, [])
    assert.equal(listed.Truncated, false)
    await rejectsWith(kms.send(new DescribeCustomKeyStoresCommand({ CustomKeyStoreId: 'cks-1234567890abcdef0' })), 'CustomKeyStoreNotFoundException')
    await rejectsWith(kms.send(new DescribeCustomKeyStoresCommand({ CustomKeyStoreName: 'mine' })), 'CustomKeyStoreNotFoundException')
    for (const command of [
      new DeleteCustomKeyStoreCommand({ CustomKeyStoreId: 'cks-1234567890abcdef0' }),
      new ConnectCustomKeyStoreCommand({ CustomKeyStoreId: 'cks-1234567890abcdef0' }),
      new DisconnectCustomKeyStoreCommand({ CustomKeyStoreId: 'cks-1234567890abcdef0' }),
      new UpdateCustomKeyStoreCommand({ CustomKeyStoreId: 'cks-1234567890abcdef0', NewCustomKeyStoreName: 'other' }),
    ]) {
      await rejectsWith(kms.send(command as never), 'CustomKeyStoreNotFoundException')
    }
    await rejectsWith(
      kms.send(new CreateCustomKeyStoreCommand({ CustomKeyStoreName: 'hsm', CloudHsmClusterId: 'cluster-234567abcdefg', TrustAnchorCertificate: 'x', KeyStorePassword: 'secret-pass' })),
      'CloudHsmClusterNotFoundException',
    )
    await rejectsWith(
      kms.send(new CreateCustomKeyStoreCommand({ CustomKeyStoreName: 'xks', CustomKeyStoreType: 'EXTERNAL_KEY_STORE', XksProxyUriEndpoint: 'https://proxy.example.com' })),
      'XksProxyUriUnreachableException',
    )
    // Validated as the model says first; the password is never echoed.
    await rejectsWith(
      kms.send(new CreateCustomKeyStoreCommand({ CustomKeyStoreName: 'hsm', KeyStorePassword: 'short' })),
      'ValidationException',
      "1 validation error detected: Value at 'keyStorePassword' failed to satisfy constraint: Member must have length greater than or equal to 7",
    )
  })
})
