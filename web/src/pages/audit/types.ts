/** Graph beta `auditEvent` as the admin API answers it (src/http/admin/audit-event-routes.ts auditEventPresenter). */
export interface AuditEvent {
  id: string;
  displayName: string;
  componentName: string;
  activity: string;
  activityDateTime: string;
  activityType: string;
  /** `Create`, `Patch`, `Delete` or `Action`. */
  activityOperationType: string;
  /** `Success` or `Failure`. */
  activityResult: string;
  correlationId: string;
  category: string;
  actor: AuditActor;
  resources: AuditResource[];
}

/** Who made the change, from the verified token: `ItPro` (a signed-in admin), `Application` or `Operator` (the CLI). */
export interface AuditActor {
  type: string;
  userPrincipalName: string | null;
  servicePrincipalName: string | null;
  userId: string | null;
  applicationId: string | null;
  ipAddress: string | null;
  userPermissions: string[];
}

export interface AuditResource {
  resourceId: string;
  displayName: string | null;
  type: string;
  /** Only the changed properties, as text; secrets are `********`. A Create has empty old values, a Delete empty new ones. */
  modifiedProperties: { displayName: string; oldValue: string | null; newValue: string | null }[];
}

export const AUDIT_EVENTS_PATH = '/deviceManagement/auditEvents';
