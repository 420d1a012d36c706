import { render, waitFor } from '@testing-library/react';
import App from './App';

// Rendering a Backstage app in jsdom is slow when the machine is busy (the suites run in parallel).
jest.setTimeout(60_000);

describe('App', () => {
  it('renders the portal shell', async () => {
    process.env = {
      NODE_ENV: 'test',
      APP_CONFIG: [
        {
          data: {
            app: { title: 'Test' },
            backend: { baseUrl: 'http://localhost:7007' },
          },
          context: 'test',
        },
      ] as any,
    };
    const rendered = render(<App />);
    await waitFor(() => {
      expect(rendered.baseElement).toBeInTheDocument();
    });
  });
});
