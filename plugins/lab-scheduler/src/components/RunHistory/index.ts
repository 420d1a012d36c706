export { RunHistory } from './RunHistory';
export { RawDataButton } from './RawDataButton';
