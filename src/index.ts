// typevisor as a library: build a PC, load a kernel, run it, talk to its console.
//
//   const m = new Machine({ memoryMiB: 128, kernel, initrd, cmdline: 'console=ttyS0' });
//   m.onSerialOutput = (bytes) => process.stdout.write(bytes);
//   const exit = await m.run();   // { kind: 'poweroff' } | { kind: 'reset', ... } | ...

export { Machine, type MachineConfig, type ExitReason, MIN_MEMORY_MIB, MAX_MEMORY_MIB } from './machine/Machine.js';
export { SnapshotError } from './snapshot/SnapshotError.js';
export type { RestoreOptions, SnapshotInfo } from './snapshot/MachineSnapshot.js';
export { Platform } from './machine/Platform.js';
export { RunLoop, type Pacing } from './machine/RunLoop.js';
export { VirtualClock, Timer } from './machine/VirtualClock.js';
export { IoBus, type PortHandler } from './machine/IoBus.js';
export { PhysicalMemory, type MmioHandler } from './memory/PhysicalMemory.js';
export { Cpu } from './cpu/Cpu.js';
export { saveCpuState, loadCpuState, type CpuStateData } from './cpu/CpuState.js';
export type { Device, IrqLine, InterruptController } from './devices/Device.js';
export { loadKernel, loadFirmware, BootError, type BootEntry } from './boot/index.js';
export { attachVirtio, parseDriveOption, parseNetOption, parseVsockOption, type VirtioOptions, type AttachedVirtio } from './devices/virtio/options.js';
