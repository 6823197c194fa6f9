// Opaque pagination markers: the position encoded with its list's kind, so a marker from another
// list (or a made-up one) is InvalidMarkerException rather than a silent wrong page.
import { InvalidMarkerException } from '../protocol/errors.js'

export type MarkerKind = 'key' | 'alias' | 'tag' | 'grant'

export function encodeMarker(kind: MarkerKind, position: string): string {
  return Buffer.from(`${kind}:${position}`, 'utf8').toString('base64url')
}

export function decodeMarker(marker: string, kind: MarkerKind): string {
  if (/^[A-Za-z0-9_-]+$/.test(marker)) {
    const text = Buffer.from(marker, 'base64url').toString('utf8')
    if (text.startsWith(`${kind}:`) && encodeMarker(kind, text.slice(kind.length + 1)) === marker) {
      return text.slice(kind.length + 1)
    }
  }
  throw new InvalidMarkerException('Invalid marker')
}
