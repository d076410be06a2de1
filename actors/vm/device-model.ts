/** The balloon device models a VM can have (kept free of imports: the CLI reads it at start-up). */
export type DeviceModel = 'hv-balloon' | 'virtio-balloon';
export const DEVICE_MODELS: readonly DeviceModel[] = ['hv-balloon', 'virtio-balloon'];
