// Checks a PreferenceLogps before any loss runs: presence of what the chosen losses need, shapes,
// dtypes, devices, and finite values. Values are read back in one device-to-host transfer.
import { isFloatingPoint } from '../tensor/dtype.js';
import { Tensor } from '../tensor/tensor.js';
import * as torch from '../tensor/torch.js';
import type { ResolvedLossConfig } from './config.js';
import { LossInputError } from './errors.js';
import { LOSS_REGISTRY, LOSS_TYPES } from './registry.js';
import type { LossNeed, PreferenceLogps, TokenLogps } from './types.js';

const SEQUENCE_FIELDS = [
  'policyChosen',
  'policyRejected',
  'referenceChosen',
  'referenceRejected',
  'chosenLengths',
  'rejectedLengths',
  'chosenNll',
  'wpoChosen',
  'wpoRejected',
] as const;
type SequenceField = (typeof SEQUENCE_FIELDS)[number];

const LENGTH_FIELDS: ReadonlySet<SequenceField> = new Set(['chosenLengths', 'rejectedLengths']);

function asTensor(value: unknown, field: string): Tensor {
  if (!(value instanceof Tensor)) {
    throw new LossInputError(field, `expected a Tensor, got ${value === null ? 'null' : typeof value}.`);
  }
  if (value.isDisposed) throw new LossInputError(field, 'this tensor was disposed before the loss could read it.');
  return value;
}

function requirePresent(logps: PreferenceLogps, fields: readonly SequenceField[], why: string): void {
  for (const field of fields) {
    if (logps[field] === undefined) throw new LossInputError(`logps.${field}`, `is missing: ${why}`);
  }
}

/**
 * Throws a LossInputError naming the field (and row) at fault, or returns the tensors a loss
 * may read. `losses` names the chosen loss types for the messages.
 */
export function checkLogps(logps: unknown, needs: ReadonlySet<LossNeed>, config: ResolvedLossConfig, losses: string): PreferenceLogps {
  if (logps === null || typeof logps !== 'object') {
    throw new LossInputError('logps', 'expected { policyChosen, policyRejected, referenceChosen?, referenceRejected?, … } of [B] tensors.');
  }
  const input = logps as PreferenceLogps;
  requirePresent(
    input,
    ['policyChosen', 'policyRejected'],
    'every preference loss needs the policy log-probs of the chosen and rejected completions.',
  );
  if ((input.referenceChosen === undefined) !== (input.referenceRejected === undefined)) {
    const missing = input.referenceChosen === undefined ? 'referenceChosen' : 'referenceRejected';
    throw new LossInputError(`logps.${missing}`, 'is missing while its counterpart is given: pass both reference log-probs or neither.');
  }
  if (needs.has('reference')) {
    requirePresent(
      input,
      ['referenceChosen', 'referenceRejected'],
      `loss_type ${losses} needs the reference model's log-probs (reference-free losses: ${LOSS_TYPES.filter((n) => !LOSS_REGISTRY[n].needs(config).includes('reference')).join(', ')}).`,
    );
  }
  if (needs.has('lengths'))
    requirePresent(input, ['chosenLengths', 'rejectedLengths'], `loss_type ${losses} needs the completion token counts.`);
  if (needs.has('chosenNll')) {
    requirePresent(
      input,
      ['chosenNll', 'chosenLengths'],
      `${config.rpo_alpha !== null && config.rpo_alpha > 0 ? `rpo_alpha adds an NLL term to loss_type ${losses}` : `loss_type ${losses} has an NLL term`}: pass the summed NLL of each chosen completion (chosenNll) and its token count (chosenLengths).`,
    );
  }
  if (config.use_weighting) {
    requirePresent(
      input,
      ['wpoChosen', 'wpoRejected'],
      'use_weighting (WPO) needs the log-weights of both completions from wpoLogWeights().',
    );
  }

  const present = SEQUENCE_FIELDS.filter((f) => input[f] !== undefined).map((f) => [f, asTensor(input[f], `logps.${f}`)] as const);
  const first = present[0]![1];
  if (first.ndim !== 1) throw new LossInputError('logps.policyChosen', `expected shape [B], got [${first.shape.join(', ')}].`);
  const batch = first.size(0);
  if (batch === 0) throw new LossInputError('logps.policyChosen', 'the batch is empty (B = 0): there is no pair to compute a loss on.');
  for (const [field, t] of present) {
    if (t.ndim !== 1 || t.size(0) !== batch) {
      throw new LossInputError(
        `logps.${field}`,
        `has shape [${t.shape.join(', ')}] but logps.policyChosen has [${batch}]: every field holds one value per pair.`,
      );
    }
    if (t.device !== first.device)
      throw new LossInputError(
        `logps.${field}`,
        `is on ${t.device} but logps.policyChosen is on ${first.device}: move them to one device.`,
      );
    if (!isFloatingPoint(t.dtype) && !LENGTH_FIELDS.has(field)) {
      throw new LossInputError(`logps.${field}`, `has dtype ${t.dtype}: log-probs must be floating point.`);
    }
  }

  // One transfer for every value check: NaN/inf anywhere, and non-positive lengths.
  const values = torch.tidy(() => torch.stack(present.map(([, t]) => t.detach().to('float64'))).toNumbers());
  present.forEach(([field, _], k) => {
    for (let b = 0; b < batch; b++) {
      const v = values[k * batch + b] as number;
      if (!Number.isFinite(v)) {
        throw new LossInputError(
          `logps.${field}[${b}]`,
          `is ${v}: every value must be finite. A NaN log-prob usually comes from averaging an empty completion (0/0); an infinite one from overflowing logits.`,
        );
      }
      if (LENGTH_FIELDS.has(field) && v <= 0) {
        throw new LossInputError(
          `logps.${field}[${b}]`,
          `is ${v}: a completion needs at least one token. Drop empty completions before batching.`,
        );
      }
    }
  });

  if (config.ld_alpha !== null) checkTokens(input.tokens, batch, first.device, needs.has('reference'));
  return input;
}

function checkTokens(tokens: TokenLogps | undefined, batch: number, device: string, needsReference: boolean): void {
  if (tokens === undefined || tokens === null || typeof tokens !== 'object') {
    throw new LossInputError(
      'logps.tokens',
      'ld_alpha (LD-DPO) needs the per-token log-probs and completion masks: pass logps.tokens (see tokenLogps()).',
    );
  }
  const pairs = [
    ['policyChosen', 'chosenMask'],
    ['policyRejected', 'rejectedMask'],
    ...(needsReference
      ? ([
          ['referenceChosen', 'chosenMask'],
          ['referenceRejected', 'rejectedMask'],
        ] as const)
      : []),
  ] as const;
  for (const [field, maskField] of pairs) {
    if (tokens[field] === undefined)
      throw new LossInputError(
        `logps.tokens.${field}`,
        'is missing: ld_alpha recomputes every sequence log-prob the loss uses from its tokens.',
      );
    const t = asTensor(tokens[field], `logps.tokens.${field}`);
    const mask = asTensor(tokens[maskField], `logps.tokens.${maskField}`);
    if (t.ndim !== 2 || t.size(0) !== batch)
      throw new LossInputError(`logps.tokens.${field}`, `expected shape [${batch}, T], got [${t.shape.join(', ')}].`);
    if (mask.shape.join() !== t.shape.join()) {
      throw new LossInputError(
        `logps.tokens.${maskField}`,
        `has shape [${mask.shape.join(', ')}] but logps.tokens.${field} has [${t.shape.join(', ')}].`,
      );
    }
    if (t.device !== device || mask.device !== device)
      throw new LossInputError(`logps.tokens.${field}`, `must be on ${device}, like logps.policyChosen.`);
    if (!isFloatingPoint(t.dtype))
      throw new LossInputError(`logps.tokens.${field}`, `has dtype ${t.dtype}: log-probs must be floating point.`);
    const [finite, shortest] = torch.tidy(() => {
      const kept = mask.ne(0);
      return [torch.where(kept, t.detach(), 0).isfinite().all().item(), kept.sum(1).min().item()];
    });
    if (!finite)
      throw new LossInputError(
        `logps.tokens.${field}`,
        'holds NaN or inf at an unmasked position: every completion token log-prob must be finite.',
      );
    if (shortest === 0)
      throw new LossInputError(`logps.tokens.${maskField}`, 'has a row with no completion token: drop empty completions before batching.');
  }
}
