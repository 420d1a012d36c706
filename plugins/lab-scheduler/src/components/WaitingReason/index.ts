export { RunWaitingReason } from './RunWaitingReason';
