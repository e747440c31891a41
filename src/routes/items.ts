// PLACEHOLDER: replaced by the real routes.
import type { Services } from '../services'
import { createRouter } from './router'

export function itemRoutes(_services: Services) {
  return createRouter()
}
