// The figure thread of `analyze`: Vega draws here while the fits of the next anime run in the main
// thread. Messages: {id, name, data, signals} -> {id, svg} | {id, error}.
import {parentPort} from 'node:worker_threads'

import './anime.js'
import './comparison.js'
import {type Rows, figureNamed} from './figure.js'

interface Request {
  id: number
  name: string
  data: Record<string, Rows>
  signals: Record<string, unknown>
}

parentPort!.on('message', (m: Request) => {
  // an unknown name throws at once: answered like any failed drawing, the thread lives on
  Promise.resolve()
    .then(() => figureNamed(m.name).render(m.data, m.signals))
    .then(
      (svg) => parentPort!.postMessage({id: m.id, svg}),
      (error: unknown) => parentPort!.postMessage({id: m.id, error: error instanceof Error ? error.message : String(error)}),
    )
})
