// HTTP(S) transport: POST / with a body limit, a request id on every answer, GET /healthz (alive),
// /readyz (store and root of trust usable), /metrics (Prometheus) and /console/ (the web console's
// static files, service/console.ts), TLS certificates reloadable
// without a restart, and a clean shutdown that lets in-flight requests finish.
import { readFileSync } from 'node:fs'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { createServer as createTlsServer, type Server as TlsServer } from 'node:https'
import type { AddressInfo, Socket } from 'node:net'
import type { Logger } from 'pino'
import type { Config } from './config.js'
import { KMSInternalException, SerializationException, UnknownOperationException } from './protocol/errors.js'
import { newRequestId, type KmsResponse } from './protocol/wire.js'
import type { Kms, KmsOptions } from './service/kms.js'
import { isQueryRequest } from './sts/query.js'
import { isCloudTrailRequest } from './cloudtrail/service.js'
import { openService } from './service/open.js'
import { ConsoleFiles } from './service/console.js'

export interface RunningServer {
  readonly url: string
  readonly port: number
  readonly kms: Kms
  /** Re-reads the TLS certificate and key files (SIGHUP); no-op without TLS. */
  reloadTls(): void
  close(): Promise<void>
}

function tlsFiles(config: Config): { cert: Buffer; key: Buffer } | undefined {
  if (config.tls === undefined) return undefined
  return { cert: readFileSync(config.tls.certFile), key: readFileSync(config.tls.keyFile) }
}

const JSON_TYPE = 'application/x-amz-json-1.1'

export interface ServerOptions extends KmsOptions {
  /** What GET /metrics answers; by default this process's own metrics (a worker: the whole node's). */
  readonly metrics?: () => Promise<string>
  /** Awaited before each KMS answer is sent (a worker: until the other workers have its changes). */
  readonly beforeAnswer?: () => Promise<void>
}

export async function startServer(config: Config, options: ServerOptions): Promise<RunningServer> {
  const tls = tlsFiles(config)
  const kms = await openService(config, options)
  const logger = options.logger
  const metrics = options.metrics ?? (() => kms.metrics.registry.metrics())
  const consoleFiles = config.console ? new ConsoleFiles() : undefined
  if (consoleFiles?.problem !== undefined) logger.warn(consoleFiles.problem)
  const serverOptions = { keepAliveTimeout: 65_000, requestTimeout: 30_000, headersTimeout: 20_000 }
  const listener = (req: IncomingMessage, res: ServerResponse): void => {
    void handle(kms, config, logger, { metrics, beforeAnswer: options.beforeAnswer, consoleFiles }, req, res)
  }
  const server: Server | TlsServer = tls
    ? createTlsServer({ ...serverOptions, handshakeTimeout: 10_000, ...tls }, listener)
    : createServer(serverOptions, listener)
  const connections = limitConnections(server, config.maxConnections)
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(config.port, config.host, () => {
        server.off('error', reject)
        resolve()
      })
    })
  } catch (err) {
    await kms.close()
    throw err
  }
  const { port } = server.address() as AddressInfo
  const host = config.host.includes(':') ? `[${config.host}]` : config.host
  let closing: Promise<void> | undefined
  return {
    url: `${tls ? 'https' : 'http'}://${host}:${port}`,
    port,
    kms,
    reloadTls: () => {
      if (!('setSecureContext' in server)) return
      try {
        const files = tlsFiles(config)
        if (files) server.setSecureContext(files)
        logger.info('TLS certificate reloaded')
      } catch (err) {
        // Keep serving with the old certificate rather than going down.
        logger.error({ err }, 'TLS certificate reload failed; keeping the previous one')
      }
    },
    close: () => (closing ??= shutdown(server, kms, connections)),
  }
}

/**
 * At most `max` open connections: a new connection beyond it first closes the longest-idle
 * keep-alive connection (one with no request in progress); with none idle, the new one is closed.
 * Timeouts (one place): TLS handshake 10 s, headers 20 s, whole request 30 s, idle keep-alive 65 s.
 */
function limitConnections(server: Server | TlsServer, max: number): { closeIdle(): void } {
  // Sockets that carry requests: the TCP socket itself, or its TLS socket once the handshake is done.
  const idle = new Set<Socket>()
  let open = 0
  let closing = false
  const track = (socket: Socket): void => {
    idle.add(socket)
    socket.once('close', () => idle.delete(socket))
  }
  server.on('connection', (socket: Socket) => {
    if (open >= max) {
      const oldest = idle.values().next()
      if (oldest.done === true) {
        socket.destroy()
        return
      }
      idle.delete(oldest.value)
      oldest.value.destroy()
    }
    open++
    socket.once('close', () => open--)
    // A TLS connection still in its handshake has no request in progress either: shed first.
    track(socket)
  })
  if ('setSecureContext' in server) {
    server.on('secureConnection', (tlsSocket: Socket) => {
      // From here on the TLS socket carries the requests; its TCP socket is node's `_parent`.
      const raw = (tlsSocket as Socket & { _parent?: Socket })._parent
      if (raw !== undefined) idle.delete(raw)
      track(tlsSocket)
    })
  }
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const socket = req.socket
    idle.delete(socket)
    res.once('finish', () => {
      if (closing) socket.end()
      else if (!socket.destroyed) idle.add(socket)
    })
  })
  return {
    /** Shutting down: close every connection without a request in progress, and the rest after it. */
    closeIdle() {
      closing = true
      for (const socket of idle) socket.destroy()
      idle.clear()
    },
  }
}

async function shutdown(server: Server | TlsServer, kms: Kms, connections: { closeIdle(): void }): Promise<void> {
  // Stop accepting, let in-flight requests finish, drop idle sockets (also those that never sent
  // a request: they would hold the shutdown until the header timeout).
  const closed = new Promise<void>((resolve) => server.close(() => resolve()))
  server.closeIdleConnections()
  connections.closeIdle()
  await closed
  await kms.close()
}

interface Hooks {
  readonly metrics: () => Promise<string>
  /** The web console's files; undefined with `--console off`. */
  readonly consoleFiles: ConsoleFiles | undefined
  readonly beforeAnswer: (() => Promise<void>) | undefined
}

async function handle(kms: Kms, config: Config, logger: Logger, hooks: Hooks, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const requestId = newRequestId()
  const started = process.hrtime.bigint()
  try {
    const path = (req.url ?? '/').split('?')[0]
    if (req.method === 'GET' && path === '/healthz') return sendText(res, 200, 'ok\n', requestId)
    if (req.method === 'GET' && path === '/readyz') {
      const problems = await kms.ready()
      return sendText(res, problems.length === 0 ? 200 : 503, problems.length === 0 ? 'ready\n' : `not ready\n${problems.join('\n')}\n`, requestId)
    }
    if (req.method === 'GET' && path === '/metrics') {
      const text = await hooks.metrics()
      res.writeHead(200, { 'content-type': kms.metrics.registry.contentType, 'content-length': Buffer.byteLength(text) })
      res.end(text)
      return
    }
    if (req.method === 'GET' && hooks.consoleFiles !== undefined) {
      const answer = hooks.consoleFiles.answer(path ?? '')
      if (answer !== undefined) {
        res.writeHead(answer.status, { ...answer.headers, 'x-amzn-requestid': requestId, 'content-length': answer.body.length })
        res.end(answer.body)
        return
      }
    }
    const body = await readBody(req, config.maxBodyBytes)
    let response: KmsResponse
    const kmsRequest = {
      method: req.method ?? '',
      url: req.url ?? '/',
      headers: req.headers,
      rawHeaders: req.rawHeaders,
      body: body ?? Buffer.alloc(0),
      requestId,
      remoteAddress: req.socket.remoteAddress,
      secure: 'encrypted' in req.socket && req.socket.encrypted === true,
    }
    if (body === undefined) {
      response = kms.refuse(kmsRequest, new SerializationException(`Request body exceeds the limit of ${config.maxBodyBytes} bytes.`))
      res.setHeader('connection', 'close')
    } else if (path !== '/') {
      response = kms.refuse(kmsRequest, new UnknownOperationException(`Unknown path ${(path ?? '').slice(0, 128)}; KMS requests are POST /.`))
    } else {
      response = isQueryRequest(kmsRequest)
        ? await kms.sts.handle(kmsRequest)
        : isCloudTrailRequest(kmsRequest)
          ? await kms.cloudtrail.handle(kmsRequest)
          : await kms.handle(kmsRequest)
      if (hooks.beforeAnswer !== undefined) await hooks.beforeAnswer()
    }
    send(res, response, requestId)
    const ms = Number(process.hrtime.bigint() - started) / 1e6
    if (response.cause !== undefined) {
      logger.error({ requestId, operation: response.operation, err: response.cause }, 'internal error')
    } else if (logger.isLevelEnabled('debug')) {
      logger.debug({ requestId, operation: response.operation, status: response.status, error: response.error?.code, ms }, 'request')
    }
  } catch (err) {
    logger.error({ requestId, err }, 'request failed outside the KMS handler')
    if (!res.headersSent) {
      send(res, { status: 500, body: JSON.stringify({ __type: 'KMSInternalException', message: KMSInternalException.MESSAGE }) }, requestId)
    } else {
      res.destroy()
    }
  }
}

function send(res: ServerResponse, response: KmsResponse, requestId: string): void {
  const body = Buffer.from(response.body, 'utf8')
  res.writeHead(response.status, {
    'x-amzn-requestid': requestId,
    'content-type': response.contentType ?? JSON_TYPE,
    'content-length': body.length,
  })
  res.end(body)
}

function sendText(res: ServerResponse, status: number, text: string, requestId: string): void {
  res.writeHead(status, { 'x-amzn-requestid': requestId, 'content-type': 'text/plain', 'content-length': Buffer.byteLength(text) })
  res.end(text)
}

/** The raw body, or undefined if it exceeds `limit` bytes (the rest is not read). */
function readBody(req: IncomingMessage, limit: number): Promise<Buffer | undefined> {
  const declared = Number(req.headers['content-length'])
  if (Number.isFinite(declared) && declared > limit) {
    req.resume()
    return Promise.resolve(undefined)
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    let over = false
    req.on('data', (chunk: Buffer) => {
      if (over) return
      size += chunk.length
      if (size > limit) {
        over = true
        chunks.length = 0
        resolve(undefined)
        return
      }
      chunks.push(chunk)
    })
    req.on('end', () => {
      if (!over) resolve(Buffer.concat(chunks, size))
    })
    req.on('error', reject)
    req.on('aborted', () => reject(new Error('request aborted')))
  })
}
