// The structured JSON logger (pino). Requests are logged by id, operation and outcome only: never
// bodies, messages, MACs, key material or secrets.
import { pino, type Logger } from 'pino'

export function createLogger(level: string, destination?: NodeJS.WritableStream): Logger {
  return pino(
    {
      level,
      base: { service: 'macaw' },
      // Defence in depth: these names never carry anything we may print.
      redact: { paths: ['secretAccessKey', '*.secretAccessKey', 'material', '*.material', 'Message', '*.Message', 'Mac', '*.Mac'], censor: '<redacted>' },
    },
    destination ?? pino.destination({ fd: 2, sync: false }),
  )
}
