import { Content, Header, Page } from '@backstage/core-components';
import { useRouteRef } from '@backstage/core-plugin-api';
import { Box, Tab, Tabs } from '@material-ui/core';
import {
  Link as RouterLink,
  Route,
  Routes,
  useLocation,
} from 'react-router-dom';
import { calendarRouteRef, resultsRouteRef, rootRouteRef } from '../../routes';
import { InstrumentCalendar } from '../InstrumentCalendar';
import { RecentResults } from '../RecentResults';
import { RunPage } from '../RunPage';
import { TaskDetailPage } from '../TaskDetailPage';
import { UpcomingTasksPage } from '../UpcomingTasksPage';

/** Tasks and the instrument calendar, as navigation tabs under the header. */
const SectionTabs = () => {
  const { pathname } = useLocation();
  const tasksPath = useRouteRef(rootRouteRef)();
  const calendarPath = useRouteRef(calendarRouteRef)();
  const resultsPath = useRouteRef(resultsRouteRef)();
  return (
    <Box
      px={3}
      bgcolor="background.paper"
      // The Page grid's row under the header, where Backstage's own header tabs go.
      style={{ gridArea: 'pageSubheader' }}
    >
      <Tabs
        value={
          [calendarPath, resultsPath].findIndex(path =>
            pathname.startsWith(path),
          ) + 1
        }
        indicatorColor="primary"
        aria-label="Lab Scheduler sections"
      >
        <Tab label="Tasks" component={RouterLink} to={tasksPath} />
        <Tab label="Calendar" component={RouterLink} to={calendarPath} />
        <Tab label="Recent results" component={RouterLink} to={resultsPath} />
      </Tabs>
    </Box>
  );
};

/** The plugin's page: upcoming tests, the instrument calendar, and the detail page of each task. */
export const LabSchedulerPage = () => (
  <Page themeId="tool">
    <Header title="Lab Scheduler" subtitle="Instrument measurements, on time" />
    <Routes>
      <Route
        path="/"
        element={
          <>
            <SectionTabs />
            <UpcomingTasksPage />
          </>
        }
      />
      <Route
        path="/calendar"
        element={
          <>
            <SectionTabs />
            <Content>
              <InstrumentCalendar />
            </Content>
          </>
        }
      />
      <Route
        path="/results"
        element={
          <>
            <SectionTabs />
            <Content>
              <RecentResults />
            </Content>
          </>
        }
      />
      <Route path="/tasks/:id" element={<TaskDetailPage />} />
      <Route path="/runs/:runId" element={<RunPage />} />
    </Routes>
  </Page>
);
