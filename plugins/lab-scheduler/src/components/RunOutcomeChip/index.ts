export { RunOutcomeChip } from './RunOutcomeChip';
