export { InstrumentCalendar } from './InstrumentCalendar';
export type { InstrumentCalendarProps } from './InstrumentCalendar';
export { EntityInstrumentCalendarContent } from './EntityInstrumentCalendarContent';
