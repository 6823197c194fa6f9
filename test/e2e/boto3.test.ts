// A second client: boto3 (botocore's own signer, serializer and error parser) against a real
// server. Skipped loudly if python3 with boto3 is not available.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { NEEDS_BOTO3, python } from '../helpers/python.js'
import { ROOT, startKms } from '../helpers/server.js'

const SCRIPT = `
import json, sys, boto3, botocore
kms = boto3.client('kms', endpoint_url=sys.argv[1], region_name='us-east-1',
                   aws_access_key_id=sys.argv[2], aws_secret_access_key=sys.argv[3],
                   config=botocore.config.Config(retries={'max_attempts': 1}))
out = {}
key = kms.create_key(KeySpec='HMAC_384', KeyUsage='GENERATE_VERIFY_MAC', Description='boto3')['KeyMetadata']
out['spec'] = key['KeySpec']
kms.create_alias(AliasName='alias/boto3', TargetKeyId=key['KeyId'])
mac = kms.generate_mac(KeyId='alias/boto3', Message=b'Hello World', MacAlgorithm='HMAC_SHA_384')
out['macKeyId'] = mac['KeyId']
out['macLength'] = len(mac['Mac'])
ok = kms.verify_mac(KeyId=key['Arn'], Message=b'Hello World', MacAlgorithm='HMAC_SHA_384', Mac=mac['Mac'])
out['valid'] = ok['MacValid']
def code(call):
    try:
        call()
        return None
    except botocore.exceptions.ClientError as e:
        return [e.response['Error']['Code'], e.response['Error'].get('Message', ''), e.response['ResponseMetadata']['HTTPStatusCode']]
out['badMac'] = code(lambda: kms.verify_mac(KeyId=key['KeyId'], Message=b'Hello', MacAlgorithm='HMAC_SHA_384', Mac=mac['Mac']))
out['empty'] = code(lambda: kms.generate_mac(KeyId=key['KeyId'], Message=b'', MacAlgorithm='HMAC_SHA_384'))
out['notFound'] = code(lambda: kms.describe_key(KeyId='key_id'))
out['disabled'] = (kms.disable_key(KeyId=key['KeyId']), code(lambda: kms.generate_mac(KeyId=key['KeyId'], Message=b'x', MacAlgorithm='HMAC_SHA_384')))[1]
print(json.dumps(out))
`


describe('boto3 smoke test', () => {
  it('creates, aliases, MACs, verifies and gets AWS errors through boto3', { skip: NEEDS_BOTO3 }, async (t) => {
    const { server } = await startKms(t)
    // Async: the server runs in this process, so a synchronous child would deadlock it.
    const out = JSON.parse(await python(SCRIPT, [server.url, ROOT.accessKeyId, ROOT.secretAccessKey])) as Record<string, unknown>
    assert.equal(out['spec'], 'HMAC_384')
    assert.match(String(out['macKeyId']), /^arn:aws:kms:us-east-1:111122223333:key\//)
    assert.equal(out['macLength'], 48)
    assert.equal(out['valid'], true)
    assert.deepEqual(out['badMac'], ['KMSInvalidMacException', '', 400])
    assert.deepEqual(out['empty'], ['ValidationException', "1 validation error detected: Value at 'message' failed to satisfy constraint: Member must have length greater than or equal to 1", 400])
    assert.deepEqual(out['notFound'], ['NotFoundException', "Invalid keyId 'key_id'", 400])
    assert.equal((out['disabled'] as string[])[0], 'DisabledException')
  })
})
