// virtio 1.2 §4.2 (virtio over MMIO), version 2 register layout (§4.2.2); announced to Linux on the command line as Firecracker does.
//
// One device in a 4 KiB window of physical address space, with a level-triggered
// interrupt line that is high while the interrupt status is non-zero. Registers are
// 32-bit; the device config space from 0x100 may be read and written at any width.

import type { MmioHandler, PhysicalMemory } from '../../memory/PhysicalMemory.js';
import type { Device, IrqLine } from '../Device.js';
import { stateNum, stateRecord } from '../support.js';
import type { VirtioDevice, VirtioTransport } from './VirtioDevice.js';

export const MMIO_WINDOW_SIZE = 0x1000;
export const MMIO_MAGIC = 0x74726976; // "virt"
/** Vendor ID the device reports (the virtio PCI vendor, as QEMU's "QEMU" is for its own). */
export const MMIO_VENDOR_ID = 0x1af4;

// Register offsets (§4.2.2)
export const MMIO_MAGIC_VALUE = 0x000;
export const MMIO_VERSION = 0x004;
export const MMIO_DEVICE_ID = 0x008;
export const MMIO_VENDOR = 0x00c;
export const MMIO_DEVICE_FEATURES = 0x010;
export const MMIO_DEVICE_FEATURES_SEL = 0x014;
export const MMIO_DRIVER_FEATURES = 0x020;
export const MMIO_DRIVER_FEATURES_SEL = 0x024;
export const MMIO_QUEUE_SEL = 0x030;
export const MMIO_QUEUE_NUM_MAX = 0x034;
export const MMIO_QUEUE_NUM = 0x038;
export const MMIO_QUEUE_READY = 0x044;
export const MMIO_QUEUE_NOTIFY = 0x050;
export const MMIO_INTERRUPT_STATUS = 0x060;
export const MMIO_INTERRUPT_ACK = 0x064;
export const MMIO_STATUS = 0x070;
export const MMIO_QUEUE_DESC_LOW = 0x080;
export const MMIO_QUEUE_DESC_HIGH = 0x084;
export const MMIO_QUEUE_DRIVER_LOW = 0x090;
export const MMIO_QUEUE_DRIVER_HIGH = 0x094;
export const MMIO_QUEUE_DEVICE_LOW = 0x0a0;
export const MMIO_QUEUE_DEVICE_HIGH = 0x0a4;
export const MMIO_SHM_SEL = 0x0ac;
export const MMIO_SHM_LEN_LOW = 0x0b0;
export const MMIO_SHM_LEN_HIGH = 0x0b4;
export const MMIO_SHM_BASE_LOW = 0x0b8;
export const MMIO_SHM_BASE_HIGH = 0x0bc;
export const MMIO_CONFIG_GENERATION = 0x0fc;
export const MMIO_CONFIG = 0x100;

const TWO32 = 0x100000000;

function low(a: number): number {
  return a % TWO32 >>> 0;
}
function high(a: number): number {
  return Math.floor(a / TWO32) >>> 0;
}

export class VirtioMmio implements MmioHandler, VirtioTransport, Device {
  readonly name: string;
  private deviceFeaturesSel = 0;
  private driverFeaturesSel = 0;
  private queueSel = 0;
  private irqLevel = false;

  /**
   * @param device the virtio device behind the window
   * @param base   guest-physical base of the 4 KiB window
   * @param irq    ISA IRQ number (for the command line) and its line
   */
  constructor(readonly device: VirtioDevice, readonly base: number, readonly irqNumber: number, private readonly irq: IrqLine) {
    this.name = `virtio-mmio-${device.name}`;
    device.transport = this;
  }

  /** Map the window into guest physical memory. */
  attach(memory: PhysicalMemory): void {
    memory.addMmio(this.base, MMIO_WINDOW_SIZE, this.name, this);
  }

  /** The kernel command-line fragment that announces this device (CONFIG_VIRTIO_MMIO_CMDLINE_DEVICES). */
  cmdline(): string {
    return `virtio_mmio.device=4K@0x${this.base.toString(16)}:${this.irqNumber}`;
  }

  interruptChanged(): void {
    const level = this.device.isr !== 0;
    if (level === this.irqLevel) return;
    this.irqLevel = level;
    this.irq(level);
  }

  read(offset: number, size: 1 | 2 | 4): number {
    const dev = this.device;
    if (offset >= MMIO_CONFIG) return dev.readConfig(offset - MMIO_CONFIG, size);
    if (size !== 4 || offset & 3) return 0; // registers are 32-bit only (§4.2.2.2)
    const q = dev.queues[this.queueSel];
    switch (offset) {
      case MMIO_MAGIC_VALUE: return MMIO_MAGIC;
      case MMIO_VERSION: return 2;
      case MMIO_DEVICE_ID: return dev.deviceId;
      case MMIO_VENDOR: return MMIO_VENDOR_ID;
      case MMIO_DEVICE_FEATURES: return dev.deviceFeatures.word(this.deviceFeaturesSel);
      case MMIO_QUEUE_NUM_MAX: return q ? q.maxSize : 0;
      case MMIO_QUEUE_READY: return q?.ready ? 1 : 0;
      case MMIO_INTERRUPT_STATUS: return dev.isr;
      case MMIO_STATUS: return dev.status;
      case MMIO_QUEUE_DESC_LOW: return q ? low(q.desc) : 0;
      case MMIO_QUEUE_DESC_HIGH: return q ? high(q.desc) : 0;
      case MMIO_QUEUE_DRIVER_LOW: return q ? low(q.driver) : 0;
      case MMIO_QUEUE_DRIVER_HIGH: return q ? high(q.driver) : 0;
      case MMIO_QUEUE_DEVICE_LOW: return q ? low(q.device) : 0;
      case MMIO_QUEUE_DEVICE_HIGH: return q ? high(q.device) : 0;
      case MMIO_SHM_LEN_LOW:
      case MMIO_SHM_LEN_HIGH:
        return 0xffffffff; // no shared memory regions
      case MMIO_CONFIG_GENERATION: return dev.configGeneration;
      default: return 0;
    }
  }

  write(offset: number, size: 1 | 2 | 4, value: number): void {
    const dev = this.device;
    if (offset >= MMIO_CONFIG) {
      dev.writeConfig(offset - MMIO_CONFIG, size, value);
      return;
    }
    if (size !== 4 || offset & 3) return;
    value >>>= 0;
    const q = dev.queues[this.queueSel];
    // Queue layout registers may change only while the queue is not ready (§4.2.3.2).
    const qw = q !== undefined && !q.ready;
    switch (offset) {
      case MMIO_DEVICE_FEATURES_SEL: this.deviceFeaturesSel = value; break;
      case MMIO_DRIVER_FEATURES: dev.writeDriverFeatures(this.driverFeaturesSel, value); break;
      case MMIO_DRIVER_FEATURES_SEL: this.driverFeaturesSel = value; break;
      case MMIO_QUEUE_SEL: this.queueSel = value; break;
      case MMIO_QUEUE_NUM: if (qw) q.size = value; break;
      case MMIO_QUEUE_READY: if (q) dev.setQueueReady(q, (value & 1) === 1); break;
      case MMIO_QUEUE_NOTIFY: dev.notify(value & 0xffff); break;
      case MMIO_INTERRUPT_ACK: dev.ackInterrupt(value & 3); break;
      case MMIO_STATUS: dev.writeStatus(value); if (value === 0) this.resetTransport(); break;
      case MMIO_QUEUE_DESC_LOW: if (qw) q.desc = high(q.desc) * TWO32 + value; break;
      case MMIO_QUEUE_DESC_HIGH: if (qw) q.desc = value * TWO32 + low(q.desc); break;
      case MMIO_QUEUE_DRIVER_LOW: if (qw) q.driver = high(q.driver) * TWO32 + value; break;
      case MMIO_QUEUE_DRIVER_HIGH: if (qw) q.driver = value * TWO32 + low(q.driver); break;
      case MMIO_QUEUE_DEVICE_LOW: if (qw) q.device = high(q.device) * TWO32 + value; break;
      case MMIO_QUEUE_DEVICE_HIGH: if (qw) q.device = value * TWO32 + low(q.device); break;
      case MMIO_SHM_SEL: break;
      default: break;
    }
  }

  private resetTransport(): void {
    this.deviceFeaturesSel = 0;
    this.driverFeaturesSel = 0;
    this.queueSel = 0;
  }

  /** Machine reset: the device and the transport's selectors. */
  reset(): void {
    this.device.reset();
    this.resetTransport();
  }

  /** Transport registers and the whole device behind them. */
  saveState(): unknown {
    return {
      deviceFeaturesSel: this.deviceFeaturesSel,
      driverFeaturesSel: this.driverFeaturesSel,
      queueSel: this.queueSel,
      device: this.device.saveState(),
    };
  }

  loadState(state: unknown): void {
    const s = stateRecord(state, this.name);
    this.deviceFeaturesSel = stateNum(s, 'deviceFeaturesSel', this.name) >>> 0;
    this.driverFeaturesSel = stateNum(s, 'driverFeaturesSel', this.name) >>> 0;
    this.queueSel = stateNum(s, 'queueSel', this.name) >>> 0;
    // The device's own re-drive is held back: the line is driven once, below.
    this.device.transport = null;
    try {
      this.device.loadState(s['device']);
    } finally {
      this.device.transport = this;
    }
    // Drive the line to whatever the loaded interrupt status says.
    this.irqLevel = this.device.isr === 0;
    this.interruptChanged();
  }
}
