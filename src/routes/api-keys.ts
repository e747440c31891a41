// PLACEHOLDER: replaced by the real routes.
import type { Services } from '../services'
import { createRouter } from './router'

export function apiKeyRoutes(_services: Services) {
  return createRouter()
}
