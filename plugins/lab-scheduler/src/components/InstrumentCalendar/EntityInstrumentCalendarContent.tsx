import { stringifyEntityRef } from '@backstage/catalog-model';
import { useEntity } from '@backstage/plugin-catalog-react';
import { InstrumentCalendar } from './InstrumentCalendar';

/** The calendar of the instrument whose catalog page this is (an entity tab; the layout pads it). */
export const EntityInstrumentCalendarContent = () => {
  const { entity } = useEntity();
  return <InstrumentCalendar instrumentRef={stringifyEntityRef(entity)} />;
};
