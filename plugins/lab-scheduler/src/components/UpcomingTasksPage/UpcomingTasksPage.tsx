import { useState } from 'react';
import {
  Content,
  ContentHeader,
  EmptyState,
  Header,
  Page,
  ResponseErrorPanel,
  SupportButton,
} from '@backstage/core-components';
import { useApi } from '@backstage/core-plugin-api';
import useAsync from 'react-use/esm/useAsync';
import { Box, Button, MenuItem, TextField } from '@material-ui/core';
import { labSchedulerApiRef } from '../../api';
import { TaskTable } from '../TaskTable';

const PAGE_SIZES = [10, 25, 50, 100];

/** The plugin's landing page: tasks ordered by their next run, paged by server-side cursors. */
export const UpcomingTasksPage = () => {
  const api = useApi(labSchedulerApiRef);
  const [pageSize, setPageSize] = useState(25);
  // Cursors of the pages seen so far: index 0 is the first page (no cursor).
  const [cursors, setCursors] = useState<(string | undefined)[]>([undefined]);
  const [text, setText] = useState('');
  const pageIndex = cursors.length - 1;

  const { value, loading, error } = useAsync(
    () =>
      api.listTasks({
        limit: pageSize,
        cursor: cursors[pageIndex],
        text: text || undefined,
      }),
    [api, pageSize, cursors, text],
  );

  return (
    <Page themeId="tool">
      <Header
        title="Lab Scheduler"
        subtitle="Scheduled instrument measurements, next run first"
      />
      <Content>
        <ContentHeader title="Upcoming tests">
          <SupportButton>
            Measurement tasks scheduled on the lab's instruments.
          </SupportButton>
        </ContentHeader>
        <Box display="flex" mb={2} style={{ gap: 16 }}>
          <TextField
            label="Search"
            value={text}
            onChange={e => {
              setText(e.target.value);
              setCursors([undefined]);
            }}
            variant="outlined"
            size="small"
          />
          <TextField
            select
            label="Page size"
            value={pageSize}
            onChange={e => {
              setPageSize(Number(e.target.value));
              setCursors([undefined]);
            }}
            variant="outlined"
            size="small"
          >
            {PAGE_SIZES.map(size => (
              <MenuItem key={size} value={size}>
                {size}
              </MenuItem>
            ))}
          </TextField>
        </Box>
        {error && <ResponseErrorPanel error={error} />}
        {!error && !loading && value && value.items.length === 0 && pageIndex === 0 && (
          <EmptyState
            missing="data"
            title="No measurements scheduled"
            description="Tasks created through the API or the instrument pages show up here, next run first."
          />
        )}
        {!error && (loading || (value && value.items.length > 0)) && (
          <TaskTable tasks={value?.items ?? []} loading={loading} />
        )}
        <Box display="flex" justifyContent="flex-end" mt={2} style={{ gap: 8 }}>
          <Button
            disabled={pageIndex === 0 || loading}
            onClick={() => setCursors(c => c.slice(0, -1))}
          >
            Previous page
          </Button>
          <Button
            disabled={!value?.nextCursor || loading}
            onClick={() => setCursors(c => [...c, value!.nextCursor!])}
          >
            Next page
          </Button>
        </Box>
      </Content>
    </Page>
  );
};
