// The unpaired branch of preferenceLoss: checks an UnpairedLogps, runs the registered unpaired
// loss, and reports TRL KTOTrainer's metrics (rewards/chosen and logps/chosen over the desirable
// examples, …/rejected over the undesirable ones, rewards/margins when both are present, and the
// loss's own, e.g. kto's kl). It never branches on a loss name.
import { isFloatingPoint } from '../tensor/dtype.js';
import type { Device } from '../tensor/options.js';
import { Tensor } from '../tensor/tensor.js';
import * as torch from '../tensor/torch.js';
import { LossInputError } from './errors.js';
import { nonFiniteLoss, readMetrics } from './loss-outputs.js';
import type { LossPlan } from './loss-plan.js';
import type { LossNeed, PreferenceLossOptions, PreferenceLossOutput, UnpairedLogps, UnpairedLossDefinition } from './types.js';

const EXAMPLE_FIELDS = ['policy', 'reference', 'desirable'] as const;
const KL_FIELDS = ['policyKl', 'referenceKl'] as const;
type Field = (typeof EXAMPLE_FIELDS)[number] | (typeof KL_FIELDS)[number];

function present(logps: UnpairedLogps, field: Field, why: string | null): Tensor | undefined {
  const value = logps[field];
  if (value === undefined) {
    if (why !== null) throw new LossInputError(`logps.${field}`, `is missing: ${why}`);
    return undefined;
  }
  if (!(value instanceof Tensor))
    throw new LossInputError(`logps.${field}`, `expected a Tensor, got ${value === null ? 'null' : typeof value}.`);
  if (value.isDisposed) throw new LossInputError(`logps.${field}`, 'this tensor was disposed before the loss could read it.');
  return value;
}

/** Checks shapes, dtypes, devices and finite values; returns the labels as booleans (one transfer). */
function checkUnpairedLogps(logps: unknown, needs: ReadonlySet<LossNeed>, names: string): boolean[] {
  if (logps === null || typeof logps !== 'object' || !('desirable' in logps || 'policy' in logps)) {
    throw new LossInputError(
      'logps',
      `loss_type ${names} takes unpaired examples: pass { policy, reference, desirable${needs.has('kl') ? ', policyKl, referenceKl' : ''} } of [B] tensors (desirable bool), not pairs.`,
    );
  }
  const input = logps as UnpairedLogps;
  const policy = present(input, 'policy', 'the policy log-probs of the completions.') as Tensor;
  const desirable = present(input, 'desirable', 'the labels of the examples ([B] bool, true = desirable).') as Tensor;
  const reference = present(
    input,
    'reference',
    needs.has('reference') ? `loss_type ${names} needs the reference model's log-probs.` : null,
  );
  const why = `loss_type ${names} estimates its reference point from the KL rows (another example's prompt with each completion).`;
  const kl = needs.has('kl') ? [present(input, 'policyKl', why) as Tensor, present(input, 'referenceKl', why) as Tensor] : [];

  if (policy.ndim !== 1) throw new LossInputError('logps.policy', `expected shape [B], got [${policy.shape.join(', ')}].`);
  const batch = policy.size(0);
  if (batch === 0) throw new LossInputError('logps.policy', 'the batch is empty (B = 0): there is no example to compute a loss on.');
  const checkShape = (field: Field, t: Tensor, size: number, what: string) => {
    if (t.ndim !== 1 || t.size(0) !== size)
      throw new LossInputError(`logps.${field}`, `has shape [${t.shape.join(', ')}], expected [${size}]: ${what}.`);
    if (t.device !== policy.device)
      throw new LossInputError(`logps.${field}`, `is on ${t.device} but logps.policy is on ${policy.device}: move them to one device.`);
  };
  checkShape('desirable', desirable, batch, 'one label per example');
  if (desirable.dtype !== 'bool')
    throw new LossInputError('logps.desirable', `has dtype ${desirable.dtype}: labels must be bool (true = desirable).`);
  const floats: [Field, Tensor][] = [['policy', policy]];
  if (reference) {
    checkShape('reference', reference, batch, 'one value per example');
    floats.push(['reference', reference]);
  }
  if (kl.length > 0) {
    const rows = (kl[0] as Tensor).ndim === 1 ? (kl[0] as Tensor).size(0) : -1;
    if (rows < 1)
      throw new LossInputError('logps.policyKl', `expected shape [K] with K ≥ 1 KL rows, got [${(kl[0] as Tensor).shape.join(', ')}].`);
    KL_FIELDS.forEach((field, i) => {
      checkShape(field, kl[i] as Tensor, rows, 'one value per KL row, as many as logps.policyKl');
      floats.push([field, kl[i] as Tensor]);
    });
  }
  for (const [field, t] of floats) {
    if (!isFloatingPoint(t.dtype)) throw new LossInputError(`logps.${field}`, `has dtype ${t.dtype}: log-probs must be floating point.`);
  }
  const values = torch.tidy(() => torch.cat([desirable, ...floats.map(([, t]) => t)].map((t) => t.detach().to('float64'))).toNumbers());
  let at = batch;
  for (const [field, t] of floats) {
    for (let i = 0; i < t.size(0); i++) {
      const v = values[at + i] as number;
      if (!Number.isFinite(v))
        throw new LossInputError(
          `logps.${field}[${i}]`,
          `is ${v}: every value must be finite (an infinite log-prob comes from overflowing logits).`,
        );
    }
    at += t.size(0);
  }
  return values.slice(0, batch).map((v) => v === 1);
}

/** preferenceLoss for a plan of one unpaired loss (examples: 'unpaired'). */
export function unpairedLoss(plan: LossPlan, logps: unknown, options: PreferenceLossOptions): PreferenceLossOutput {
  const definition = plan.definitions[0] as UnpairedLossDefinition;
  const names = `'${definition.name}'`;
  const labels = checkUnpairedLogps(logps, plan.needs, names);
  const checked = logps as UnpairedLogps;
  const training = options.training ?? true;
  return torch.tidy(() => {
    const terms = definition.compute({ logps: checked, config: plan.config, training });
    const weight = plan.weights[0] as number;
    const losses = weight === 1 ? terms.losses : terms.losses.mul(weight);
    const rows = (want: boolean) => labels.flatMap((label, i) => (label === want ? [i] : []));
    const pick = (t: Tensor, index: number[]) =>
      t.indexSelect(0, torch.tensor(BigInt64Array.from(index, (i) => BigInt(i))).to(t.device as Device));
    const [good, bad] = [rows(true), rows(false)];
    const chosenRewards = pick(terms.rewards, good);
    const rejectedRewards = pick(terms.rewards, bad);
    const metrics: Record<string, Tensor | number> = { ...terms.metrics };
    // As TRL: a batch without desirable (or undesirable) examples reports no chosen (rejected) metrics, never a 0/0.
    if (good.length > 0) {
      metrics['rewards/chosen'] = chosenRewards.mean();
      metrics['logps/chosen'] = pick(checked.policy.detach(), good).mean();
    }
    if (bad.length > 0) {
      metrics['rewards/rejected'] = rejectedRewards.mean();
      metrics['logps/rejected'] = pick(checked.policy.detach(), bad).mean();
    }
    if (good.length > 0 && bad.length > 0) metrics['rewards/margins'] = chosenRewards.mean().sub(rejectedRewards.mean());
    const read = readMetrics(metrics, losses);
    if (!read.finite) throw nonFiniteLoss(losses, plan.config, definition.uses);
    return { losses, chosenRewards, rejectedRewards, metrics: read.values, warnings: [] };
  });
}
