/**
 * `hv-balloon-sim/testing`: a test kit for people who build their own Dynamic Memory host or guest.
 *
 * - createDeviceTestbed: QEMU's hv-balloon device, driven by a guest your test scripts
 *   (createDeviceTestbedFromParts: from the device's own config, any ring size, your host memory).
 * - createGuestTestbed: the guest's DM driver, driven by a host your test scripts.
 *
 * Both run on one virtual clock (a test controls time; nothing waits on the wall clock), decode
 * every packet the scripted end reads, and keep the device's warnings and trace points or the
 * driver's log. The assertions throw plain errors, so they work under jest, vitest or node:test.
 */
export {
  createDeviceTestbed,
  createDeviceTestbedFromParts,
  ScriptableGuest,
  LINUX_GUEST_CAPS,
  type DeviceTestbed,
  type DeviceTestbedConfig,
  type DevicePartsConfig,
  type DevicePartsTestbed,
} from './device-testbed';
export { createGuestTestbed, ScriptableHost, type GuestTestbed, type GuestTestbedConfig, type ScriptableHostOptions } from './guest-testbed';
export { ScriptedEnd, type ReceivedPacket, type Responder } from './scripted-end';
export { runUntil, type RunUntilOptions } from './run-until';
export { expectMessage, expectMessageCount, expectState, TestKitAssertionError, type MessageFields } from './assertions';
