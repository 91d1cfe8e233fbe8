// Every preference loss, registered by its loss_type name. Adding a loss = one file in
// loss-types/ and one line here; nothing else branches on a loss name.
import { alphaDpoLoss } from './loss-types/alpha-dpo.js';
import { alphapoLoss } from './loss-types/alphapo.js';
import { aotLoss } from './loss-types/aot.js';
import { aotUnpairedLoss } from './loss-types/aot-unpaired.js';
import { apoDownLoss } from './loss-types/apo-down.js';
import { apoZeroLoss } from './loss-types/apo-zero.js';
import { apoZeroUnpairedLoss } from './loss-types/apo-zero-unpaired.js';
import { bcoPairLoss } from './loss-types/bco-pair.js';
import { cpoLoss } from './loss-types/cpo.js';
import { cpoSimpoLoss } from './loss-types/cpo-simpo.js';
import { discopopLoss } from './loss-types/discopop.js';
import { exoPairLoss } from './loss-types/exo-pair.js';
import { hingeLoss } from './loss-types/hinge.js';
import { ipoLoss } from './loss-types/ipo.js';
import { ktoLoss } from './loss-types/kto.js';
import { ncaPairLoss } from './loss-types/nca-pair.js';
import { orpoLoss } from './loss-types/orpo.js';
import { rDpoLoss } from './loss-types/r-dpo.js';
import { robustLoss } from './loss-types/robust.js';
import { sftLoss } from './loss-types/sft.js';
import { sigmoidLoss } from './loss-types/sigmoid.js';
import { sigmoidNormLoss } from './loss-types/sigmoid-norm.js';
import { simpoLoss } from './loss-types/simpo.js';
import { simpoHingeLoss } from './loss-types/simpo-hinge.js';
import { sppoHardLoss } from './loss-types/sppo-hard.js';
import type { AnyLossDefinition } from './types.js';

export const LOSS_REGISTRY = {
  'alpha-dpo': alphaDpoLoss,
  sigmoid: sigmoidLoss,
  sigmoid_norm: sigmoidNormLoss,
  robust: robustLoss,
  hinge: hingeLoss,
  ipo: ipoLoss,
  exo_pair: exoPairLoss,
  nca_pair: ncaPairLoss,
  bco_pair: bcoPairLoss,
  sppo_hard: sppoHardLoss,
  aot: aotLoss,
  aot_unpaired: aotUnpairedLoss,
  apo_zero: apoZeroLoss,
  apo_down: apoDownLoss,
  discopop: discopopLoss,
  sft: sftLoss,
  simpo: simpoLoss,
  simpo_hinge: simpoHingeLoss,
  cpo: cpoLoss,
  cpo_simpo: cpoSimpoLoss,
  alphapo: alphapoLoss,
  orpo: orpoLoss,
  'r-dpo': rDpoLoss,
  // Unpaired examples (UnpairedLogps), TRL's KTOTrainer.
  kto: ktoLoss,
  apo_zero_unpaired: apoZeroUnpairedLoss,
} as const satisfies Record<string, AnyLossDefinition>;

/** A registered loss_type name. */
export type LossType = keyof typeof LOSS_REGISTRY;

export const LOSS_TYPES = Object.freeze(Object.keys(LOSS_REGISTRY) as LossType[]);
