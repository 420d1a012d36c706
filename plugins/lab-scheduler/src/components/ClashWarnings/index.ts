export { ClashWarnings, formatDuration } from './ClashWarnings';
export type { ClashWarningsProps } from './ClashWarnings';
