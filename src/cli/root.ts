// `macaw root init`: create the root key ahead of time.
import { initRoot } from '../trust/index.js'

export async function rootInit(uri: string): Promise<void> {
  const { created, root } = await initRoot(uri)
  process.stdout.write(`${created ? 'created' : 'exists'}: ${root.description} (id ${root.id})\n`)
  await root.close()
}
