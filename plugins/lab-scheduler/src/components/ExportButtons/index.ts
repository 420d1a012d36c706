export { RunExportButtons, TaskExportButtons } from './ExportButtons';
