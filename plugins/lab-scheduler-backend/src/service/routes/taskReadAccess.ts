import {
  BackstageCredentials,
  HttpAuthService,
  PermissionsService,
} from '@backstage/backend-plugin-api';
import { NotAllowedError } from '@backstage/errors';
import {
  AuthorizeResult,
  PermissionCondition,
  PermissionCriteria,
  PolicyDecision,
} from '@backstage/plugin-permission-common';
import {
  createConditionAuthorizer,
  createConditionTransformer,
} from '@backstage/plugin-permission-node';
import {
  Task,
  taskReadPermission,
} from '@lab-scheduler/plugin-lab-scheduler-common';
import { Request } from 'express';
import { TaskFilter } from '../../database/TaskStore';
import { TaskPermissionRuleset } from '../../permissions/rules';

/** The task read permission for the result routes, decided as router.ts decides it for GET /tasks and /runs. */
export class TaskReadAccess {
  private readonly toFilter: (
    criteria: PermissionCriteria<PermissionCondition>,
  ) => TaskFilter;
  private readonly isAllowedBy: (
    decision: PolicyDecision,
    task: Task,
  ) => boolean;

  constructor(
    private readonly httpAuth: HttpAuthService,
    private readonly permissions: PermissionsService,
    taskRules: TaskPermissionRuleset,
  ) {
    this.toFilter = createConditionTransformer(taskRules);
    this.isAllowedBy = createConditionAuthorizer(taskRules);
  }

  credentials(req: Request): Promise<BackstageCredentials> {
    return this.httpAuth.credentials(req, { allow: ['user', 'service'] });
  }

  /** The SQL filter of the tasks the caller may read: undefined for all of them, 403 for none. */
  async readFilter(
    credentials: BackstageCredentials,
  ): Promise<TaskFilter | undefined> {
    const [decision] = await this.permissions.authorizeConditional(
      [{ permission: taskReadPermission }],
      { credentials },
    );
    if (decision.result === AuthorizeResult.DENY)
      throw new NotAllowedError(`Not allowed: ${taskReadPermission.name}`);
    return decision.result === AuthorizeResult.CONDITIONAL
      ? this.toFilter(decision.conditions)
      : undefined;
  }

  /** 403 unless the caller may read this task. */
  async requireRead(
    credentials: BackstageCredentials,
    task: Task,
  ): Promise<void> {
    const [decision] = await this.permissions.authorizeConditional(
      [{ permission: taskReadPermission }],
      { credentials },
    );
    const allowed =
      decision.result === AuthorizeResult.ALLOW ||
      (decision.result === AuthorizeResult.CONDITIONAL &&
        this.isAllowedBy(decision, task));
    if (!allowed) {
      throw new NotAllowedError(
        `Not allowed: ${taskReadPermission.name} on task ${task.id}`,
      );
    }
  }
}
