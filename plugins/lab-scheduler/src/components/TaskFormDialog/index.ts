export { TaskFormDialog } from './TaskFormDialog';
export type { TaskFormDialogProps } from './TaskFormDialog';
