// virtio 1.2 §2.1 (device status), §2.2 and §6 (feature bits), §2.7 (split virtqueue flags), §5 (device IDs).

// Device status field (§2.1)
export const STATUS_ACKNOWLEDGE = 1;
export const STATUS_DRIVER = 2;
export const STATUS_DRIVER_OK = 4;
export const STATUS_FEATURES_OK = 8;
export const STATUS_DEVICE_NEEDS_RESET = 0x40;
export const STATUS_FAILED = 0x80;

// Reserved feature bits (§6)
export const F_INDIRECT_DESC = 28; // VIRTIO_F_INDIRECT_DESC (VIRTIO_RING_F_INDIRECT_DESC)
export const F_EVENT_IDX = 29; // VIRTIO_F_EVENT_IDX (VIRTIO_RING_F_EVENT_IDX)
export const F_VERSION_1 = 32;
export const F_ACCESS_PLATFORM = 33;
export const F_RING_PACKED = 34;

// Split virtqueue descriptor flags (§2.7.5)
export const VIRTQ_DESC_F_NEXT = 1;
export const VIRTQ_DESC_F_WRITE = 2;
export const VIRTQ_DESC_F_INDIRECT = 4;
// Ring flags (§2.7.7, §2.7.10)
export const VIRTQ_AVAIL_F_NO_INTERRUPT = 1;
export const VIRTQ_USED_F_NO_NOTIFY = 1;

// Interrupt status bits (ISR, §4.1.4.5 / InterruptStatus, §4.2.2)
export const ISR_QUEUE = 1;
export const ISR_CONFIG = 2;

// Device IDs (§5)
export const DEVICE_ID_NET = 1;
export const DEVICE_ID_BLOCK = 2;
export const DEVICE_ID_CONSOLE = 3;
export const DEVICE_ID_ENTROPY = 4;
export const DEVICE_ID_VSOCK = 19;

/** Largest queue size the devices offer (Linux and QEMU's VIRTQUEUE_MAX_SIZE use 1024). */
export const QUEUE_SIZE_MAX = 1024;
/** Largest indirect table a device walks (entries), like QEMU's bound. */
export const INDIRECT_MAX = 1024;
