/** The events owners and operations can hear about: the vocabulary of NOTIFY_EVENTS and NOTIFICATIONS_QUIET. */
export const NOTIFICATION_EVENTS = [
  'rotation-warning',
  'unused-key',
  'exemption-expiring',
  'rotation-started',
  'new-key-ready',
  'action-needed',
  'old-key-deactivated',
  'rolled-back',
  'rotation-completed',
  'rotation-failed',
  'compromise-contained',
  'accounts-unreachable',
] as const;
export type NotificationEvent = (typeof NOTIFICATION_EVENTS)[number];

/** Events the scheduled scan sends; the others come from the rotation workflow's notify step. */
export const SCAN_EVENTS = [
  'rotation-warning',
  'unused-key',
  'exemption-expiring',
  'accounts-unreachable',
] as const satisfies readonly NotificationEvent[];
export type WorkflowEvent = Exclude<NotificationEvent, (typeof SCAN_EVENTS)[number]>;
export const WORKFLOW_EVENTS = NOTIFICATION_EVENTS.filter(
  (event): event is WorkflowEvent => !(SCAN_EVENTS as readonly string[]).includes(event),
);

/** What NOTIFICATIONS_QUIET=true still sends: a person must act, or something broke. */
export const QUIET_EVENTS: readonly NotificationEvent[] = [
  'action-needed',
  'rotation-failed',
  'compromise-contained',
  'accounts-unreachable',
];
