// The slots (int32 indices into Cpu.jitSlots, in the memory's host area) through which
// translated code, its helpers and the dispatcher exchange what does not fit in a call:
// the flag state and EIP a region leaves with, the count it retired, the page base, the
// exit request devices raise (Cpu.exitReq) and the site of a memory access in its slow path.

import { SLOT_EXITREQ } from '../Cpu.js';

export const S_FK = 0, S_FA = 1, S_FB = 2, S_FR = 3, S_FX = 4, S_EIP = 5, S_N = 6, S_EXITREQ = SLOT_EXITREQ, S_BASE = 9;
/** The site of the memory access whose slow path is running (-1: none): where a throw leaves the region. */
export const S_SITE = 10;
