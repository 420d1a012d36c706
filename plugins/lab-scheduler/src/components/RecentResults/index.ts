export { RecentResults } from './RecentResults';
