// PLACEHOLDER: replaced by the real routes.
import type { Services } from '../services'
import { createRouter } from './router'

export function imageRoutes(_services: Services) {
  return createRouter()
}
export function uploadRoutes(_services: Services) {
  return createRouter()
}
