/**
 * The DM guest driver moved to machines/dm-guest/ (one file per concern); this path keeps its
 * exports for code that imports it from here.
 */
export { dmGuestDriverMachine } from './dm-guest/dm-guest-driver.machine';
export { STATUS_THREAD_PERIOD_MS, VERSION_SEQUENCE } from './dm-guest/driver-context';
export { summarizeGuestDriver, type DmGuestDriverSummary } from './dm-guest/driver-summary';
export type * from './dm-guest/driver-types';
