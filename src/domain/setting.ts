export interface Setting {
  key: string
  value: string
}
