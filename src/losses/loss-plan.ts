// From (loss_type, config) to what will run: the registered definitions with their weights, the
// resolved config, and the inputs they need. Every check that needs no tensor happens here, and
// for a config from resolveLossConfig it happens once per loss type: the plan is cached on it.
import { throwIfProblems } from '../config/config-error.js';
import { nearestName } from '../config/suggest.js';
import {
  CONFIG_SCHEMA,
  type ConfigKey,
  isResolvedLossConfig,
  isSetToNonDefault,
  type PreferenceLossConfig,
  type ResolvedLossConfig,
  resolveLossConfig,
} from './config.js';
import { LossConfigError, UnknownLossTypeError } from './errors.js';
import { LOSS_REGISTRY, LOSS_TYPES, type LossType } from './registry.js';
import type { AnyLossDefinition, LossNeed } from './types.js';

/** Keys that act on any loss: the list weights, LD-DPO, WPO and RPO's NLL term. */
const GENERAL_KEYS: readonly ConfigKey[] = ['loss_weights', 'ld_alpha', 'use_weighting', 'rpo_alpha'];
const F_DIVERGENCE_KEYS: readonly ConfigKey[] = ['f_divergence_type', 'f_alpha_divergence_coef'];

export interface LossPlan {
  definitions: readonly AnyLossDefinition[];
  /** What a row of the batch is for these losses: a pair, or one unpaired example (never mixed). */
  examples: 'pairs' | 'unpaired';
  weights: readonly number[];
  config: ResolvedLossConfig;
  needs: ReadonlySet<LossNeed>;
}

function definitionOf(name: unknown, field: string): AnyLossDefinition {
  if (typeof name === 'string' && Object.hasOwn(LOSS_REGISTRY, name)) return LOSS_REGISTRY[name as LossType];
  const text = typeof name === 'string' ? name : String(name);
  throw new UnknownLossTypeError(field, text, typeof name === 'string' ? nearestName(name, LOSS_TYPES) : null, LOSS_TYPES);
}

function usedKeys(definition: AnyLossDefinition): readonly ConfigKey[] {
  return definition.fDivergence ? [...definition.uses, ...F_DIVERGENCE_KEYS] : definition.uses;
}

// Plans of resolved (frozen) configs, by loss type list: a trainer's micro-batches reuse one.
const plans = new WeakMap<ResolvedLossConfig, Map<string, LossPlan>>();

function planKey(lossType: LossType | readonly LossType[]): string | null {
  const list = Array.isArray(lossType) ? (lossType as readonly unknown[]) : [lossType];
  return list.every((name) => typeof name === 'string') ? JSON.stringify(list) + String(Array.isArray(lossType)) : null;
}

/**
 * The plan for `lossType` with `config`. A config from resolveLossConfig is trusted and its plan
 * is cached; any other object is checked in full on every call. Every problem found is reported
 * at once, in one LossConfigError.
 */
export function planLoss(lossType: LossType | readonly LossType[], rawConfig: PreferenceLossConfig | ResolvedLossConfig): LossPlan {
  const resolved = isResolvedLossConfig(rawConfig);
  const key = resolved ? planKey(lossType) : null;
  const cached = key === null ? undefined : plans.get(rawConfig as ResolvedLossConfig)?.get(key);
  if (cached) return cached;
  const plan = makePlan(lossType, rawConfig);
  if (key !== null) {
    const byType = plans.get(plan.config) ?? new Map<string, LossPlan>();
    byType.set(key, plan);
    plans.set(plan.config, byType);
  }
  return plan;
}

function makePlan(lossType: LossType | readonly LossType[], rawConfig: PreferenceLossConfig | ResolvedLossConfig): LossPlan {
  const config = resolveLossConfig(rawConfig);
  const list = Array.isArray(lossType) ? (lossType as readonly unknown[]) : [lossType];
  if (list.length === 0) throw new LossConfigError('loss_type', 'the list of loss types is empty: give at least one, e.g. "sigmoid".');
  const definitions = list.map((name, i) => definitionOf(name, Array.isArray(lossType) ? `loss_type[${i}]` : 'loss_type'));
  const names = definitions.map((d) => `'${d.name}'`).join(', ');
  const problems: LossConfigError[] = [];

  const weights = config.loss_weights ?? definitions.map(() => 1);
  if (weights.length !== definitions.length) {
    problems.push(
      new LossConfigError(
        'loss_weights',
        `has ${weights.length} weight(s) for ${definitions.length} loss type(s) (${names}): give one weight per loss type.`,
      ),
    );
  }

  const unpaired = definitions.filter((d) => d.examples === 'unpaired');
  if (unpaired.length > 0 && definitions.length > 1) {
    problems.push(
      new LossConfigError(
        'loss_type',
        `'${unpaired[0]!.name}' takes unpaired examples and cannot be listed with other losses (${names}); give it alone, as TRL's KTOTrainer does.`,
      ),
    );
  }
  if (unpaired.length > 0) {
    for (const key of ['ld_alpha', 'use_weighting', 'rpo_alpha'] as const) {
      if (isSetToNonDefault(rawConfig, key))
        problems.push(new LossConfigError(key, `acts on preference pairs, but ${names} takes unpaired examples: remove it.`));
    }
  }

  for (const definition of definitions) {
    for (const key of definition.requires) {
      if (config[key] === null)
        problems.push(new LossConfigError(key, `loss_type '${definition.name}' needs ${key}. ${CONFIG_SCHEMA[key].doc}`));
    }
    if (definition.requires.every((key) => config[key] !== null)) {
      try {
        definition.validate?.(config);
      } catch (e) {
        if (!(e instanceof LossConfigError)) throw e;
        problems.push(e);
      }
    }
    if (config.use_weighting && definition.sortsBatch) {
      problems.push(
        new LossConfigError(
          'use_weighting',
          `WPO weights are per pair, but '${definition.name}' sorts the batch, so its rows are not pairs (as TRL, which refuses this too).`,
        ),
      );
    }
  }

  // A key that would change some loss but changes none of those chosen is a mistake, not a no-op.
  const used = new Set<ConfigKey>([...GENERAL_KEYS, ...definitions.flatMap(usedKeys)]);
  for (const key of Object.keys(rawConfig) as ConfigKey[]) {
    if (used.has(key) || !isSetToNonDefault(rawConfig, key)) continue;
    const users = LOSS_TYPES.filter((name) => usedKeys(LOSS_REGISTRY[name]).includes(key));
    problems.push(
      new LossConfigError(
        key,
        `has no effect on loss_type ${names}; it is read by ${users.map((u) => `'${u}'`).join(', ')}. Remove it or change the loss type.`,
      ),
    );
  }
  throwIfProblems(LossConfigError, problems);

  const needs = new Set<LossNeed>(definitions.flatMap((d) => d.needs(config)));
  if (hasRpoTerm(config)) needs.add('chosenNll');
  return { definitions, examples: unpaired.length > 0 ? 'unpaired' : 'pairs', weights, config, needs };
}

/** Whether RPO's NLL term is on: rpo_alpha set and > 0 (0 adds nothing, so it needs no chosenNll). */
export function hasRpoTerm(config: ResolvedLossConfig): boolean {
  return config.rpo_alpha !== null && config.rpo_alpha > 0;
}
