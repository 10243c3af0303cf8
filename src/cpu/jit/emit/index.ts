// The instruction templates by opcode: what the translator emits inline. An opcode with
// no template, or whose template declines the instruction, runs through the interpreter
// from translated code (Emitter.fallback).

import { incDecRm, installAlu } from './alu.js';
import { installBit } from './bit.js';
import { groupFFControl, groupFFControlAccepts, installControl } from './control.js';
import { installMove } from './move.js';
import { installShift } from './shift.js';
import { installSystem } from './system.js';
import { when, type TemplateTable } from './types.js';

export const TEMPLATES: TemplateTable = new Array(512);
installAlu(TEMPLATES);
installMove(TEMPLATES);
installControl(TEMPLATES);
installShift(TEMPLATES);
installBit(TEMPLATES);
installSystem(TEMPLATES);
TEMPLATES[0xff] = when((i) => i.reg <= 1 || groupFFControlAccepts(i), (e) => {
  if (e.i.reg <= 1) incDecRm(e, e.osize, e.i.reg === 1); else groupFFControl(e);
});
