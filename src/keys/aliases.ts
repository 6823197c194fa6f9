// Alias naming rules that need no key (AWS KMS Developer Guide, Aliases): the `alias/` prefix, no `:`, and the
// reserved `alias/aws/` prefix.
import { InvalidAliasNameException, ValidationException } from '../protocol/errors.js'

export const MAX_ALIASES_PER_KEY = 50

export function checkAliasName(name: string): void {
  if (!name.startsWith('alias/')) {
    throw new ValidationException(
      'Alias must start with the prefix "alias/". Please see https://docs.aws.amazon.com/kms/latest/developerguide/kms-alias.html',
    )
  }
  if (name.includes(':')) throw new ValidationException(`${name} contains invalid characters for an alias`)
  if (name.length === 'alias/'.length) throw new InvalidAliasNameException('The alias name must not be empty after the prefix "alias/".')
  if (name.startsWith('alias/aws/')) {
    throw new InvalidAliasNameException('The alias/aws/ prefix is reserved for AWS managed keys.')
  }
}
