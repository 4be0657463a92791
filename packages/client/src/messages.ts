import type { ActionMessage } from './types.ts';

/** Messages for what the client decides by itself (the server sends its own with each action). */
export const LOCAL_MESSAGES = {
  offlineBlock: {
    title: 'Internet connection required',
    text: "Your organization requires this app to connect to the internet regularly to keep accessing its data.",
    remediation: 'Connect to the internet, then open the app again.',
  },
  offlineWipe: {
    title: 'Internet connection required',
    text: "This app was offline for too long, so your organization's data was removed from it.",
    remediation: 'Connect to the internet and sign in again.',
  },
  accountDisabled: {
    title: 'Sign-in failed',
    text: "Your work account can't sign in, so this app can't open your organization's data.",
    remediation: 'Contact your IT administrator.',
  },
  accountDisabledWipe: {
    title: 'Your organization has removed its data',
    text: "Your work account can't sign in, so your organization's data was removed from this app.",
    remediation: 'Contact your IT administrator.',
  },
  wipe: {
    title: 'Your organization has removed its data',
    text: "Your organization's data was removed from this app.",
    remediation: 'Sign in again, or contact your IT administrator.',
  },
  wipeFailed: {
    title: 'App can no longer be used',
    text: "Your organization's data could not be removed from this app.",
    remediation: 'Restart the app. If this continues, contact your IT administrator.',
  },
  wipePending: {
    title: 'Your organization has removed its data',
    text: "Your organization's data is being removed from this app.",
    remediation: 'Wait a moment.',
  },
  healthBlock: {
    title: 'App can no longer be used',
    text: "This app or device doesn't meet your organization's requirements.",
    remediation: 'Update the app or Windows, or contact your IT administrator.',
  },
  healthWarn: {
    title: 'Update recommended',
    text: "This app or device will soon not meet your organization's requirements.",
    remediation: 'Update the app or Windows.',
  },
  notRegistered: {
    title: 'App not set up',
    text: "This app has not been set up to access your organization's data yet.",
    remediation: 'Connect to the internet and sign in with your work account.',
  },
  wrongAccount: {
    title: "Accessing your organization's data",
    text: 'Another work account is already used with managed apps on this device.',
    remediation: 'Sign in with that account, or ask your IT administrator to remove it.',
  },
} as const satisfies Record<string, ActionMessage>;
