import { Header, Page } from '@backstage/core-components';
import { Route, Routes } from 'react-router-dom';
import { RunPage } from '../RunPage';
import { TaskDetailPage } from '../TaskDetailPage';
import { UpcomingTasksPage } from '../UpcomingTasksPage';

/** The plugin's page: upcoming tests, and the detail page of each task. */
export const LabSchedulerPage = () => (
  <Page themeId="tool">
    <Header title="Lab Scheduler" subtitle="Instrument measurements, on time" />
    <Routes>
      <Route path="/" element={<UpcomingTasksPage />} />
      <Route path="/tasks/:id" element={<TaskDetailPage />} />
      <Route path="/runs/:runId" element={<RunPage />} />
    </Routes>
  </Page>
);
