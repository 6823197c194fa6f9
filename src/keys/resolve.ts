// Resolution of the four KeyId forms to (account, region, key id), with AWS's NotFoundException
// texts (the model's KeyId documentation; texts in test/fixtures/aws-texts.json). Aliases resolve in the caller's account unless named by alias ARN.
import { InvalidArnException, NotFoundException } from '../protocol/errors.js'
import { aliasArn, keyArn, parseKeyIdentifier } from './arn.js'

/** An alias where the operation takes a key id or key ARN only (test/fixtures/aws-texts.json). */
export const ALIASES_NOT_SUPPORTED = 'Key Aliases are not supported for this operation.'

export interface KeyLocation {
  readonly accountId: string
  readonly region: string
  readonly keyId: string
  /** The alias the request named, for kms:RequestAlias; absent when named by id or ARN. */
  readonly viaAlias?: string
}

export interface ResolveScope {
  readonly partition: string
  readonly accountId: string
  readonly region: string
  readonly aliasTarget: (accountId: string, region: string, aliasName: string) => Promise<string | undefined>
}

export async function locateKey(
  scope: ResolveScope,
  text: string,
  forms: 'any' | 'idOrArn',
): Promise<KeyLocation> {
  const id = parseKeyIdentifier(text)
  switch (id.form) {
    case 'keyId':
      return { accountId: scope.accountId, region: scope.region, keyId: id.keyId }
    case 'invalid':
      throw new NotFoundException(`Invalid keyId '${text}'`)
    case 'invalidArn':
      throw new NotFoundException(`Invalid arn ${text}`)
    case 'aliasName':
      if (forms === 'idOrArn') throw new InvalidArnException(ALIASES_NOT_SUPPORTED)
      return aliasLocation(scope, scope.accountId, id.aliasName)
    case 'keyArn':
    case 'aliasArn': {
      // AWS: an ARN of another region is `Invalid arn <that region>` (recorded).
      if (id.partition !== scope.partition) throw new NotFoundException(`Invalid arn ${text}`)
      if (id.region !== scope.region) throw new NotFoundException(`Invalid arn ${id.region}`)
      if (!/^\d{12}$/.test(id.accountId)) throw new NotFoundException(`Invalid arn ${text}`)
      if (id.form === 'keyArn') {
        return { accountId: id.accountId, region: scope.region, keyId: id.resource }
      }
      if (forms === 'idOrArn') throw new InvalidArnException(ALIASES_NOT_SUPPORTED)
      return aliasLocation(scope, id.accountId, id.resource)
    }
  }
}

async function aliasLocation(scope: ResolveScope, accountId: string, aliasName: string): Promise<KeyLocation> {
  const keyId = await scope.aliasTarget(accountId, scope.region, aliasName)
  if (keyId === undefined) {
    const arn = aliasArn(scope.partition, scope.region, accountId, aliasName)
    throw new NotFoundException(`Alias ${arn} is not found.`)
  }
  return { accountId, region: scope.region, keyId, viaAlias: aliasName }
}

export function keyNotFound(partition: string, loc: KeyLocation): NotFoundException {
  return new NotFoundException(`Key '${keyArn(partition, loc.region, loc.accountId, loc.keyId)}' does not exist`)
}
