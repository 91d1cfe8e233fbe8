// LenTrap's teacher language: a fixed random bigram chain over a small vocabulary, conditioned on
// a topic and on a latent document mood. Every word has a hidden valence v_w ∈ [−1, 1]; a
// document's mood m = ±1 tilts each transition's logits by MOOD_TILT · m · v_next, so a positive
// document drifts toward positive words. Each word has a home topic; the chain favours words of
// the document's topic (TOPIC_BOOST). After each word the document ends with a probability that
// depends on that word (EOS-driven lengths, mean ≈ 28 words, cap MAX_WORDS). Everything is drawn
// from one world seed, so the world (and the gold reward built on it) is a pure function of it.
import { SeededRandom } from '../random/seeded-random.js';

/** Token ids: the special tokens match the demo's (pad 0, BOS 1, EOS 2), so its sampling helpers apply. */
export const STUDY_IDS = { pad: 0, bos: 1, eos: 2, sep: 3, firstTopic: 4 } as const;

export interface WorldShape {
  topics: number;
  words: number;
  /** Mean document length in words (EOS not counted), before the cap. */
  meanWords: number;
  /** Longest response in tokens (words; EOS is the token after). */
  maxWords: number;
}

export const DEFAULT_WORLD_SHAPE: WorldShape = { topics: 16, words: 100, meanWords: 28, maxWords: 64 };

/** Logit added to words of the document's topic. */
const TOPIC_BOOST = 1.5;
/** Logit tilt per unit of valence and mood. */
const MOOD_TILT = 1.2;
/** Standard deviation of the random bigram logits. */
const BIGRAM_SCALE = 1.5;
/** Standard deviation of the per-word EOS logit around its mean. */
const EOS_SCALE = 0.8;

/** World streams within the world seed. */
const STREAM = { world: 101, tau: 102 } as const;

export interface TeacherWorld {
  seed: number;
  shape: WorldShape;
  vocabSize: number;
  /** Valence of each word index (0-based over words), in [−1, 1]. */
  valence: Float64Array;
  /** Home topic of each word index. */
  topicOf: Int32Array;
  /** log P(next word | previous word, topic, mood) as [mood 0 = −1, 1 = +1][topic][prev word + 1 (0 = start)][next word]. */
  logNext: Float64Array;
  /** P(EOS | previous word) (index = word). */
  eosProb: Float64Array;
}

export const wordToken = (world: TeacherWorld, w: number) => STUDY_IDS.firstTopic + world.shape.topics + w;
export const topicToken = (t: number) => STUDY_IDS.firstTopic + t;
/** Word index of a token id, or −1 for a non-word token (special, topic). */
export function wordOf(world: TeacherWorld, token: number): number {
  const w = token - STUDY_IDS.firstTopic - world.shape.topics;
  return w >= 0 && w < world.shape.words ? w : -1;
}

function gaussian(rng: SeededRandom): number {
  // Box–Muller; 1 − u keeps the log finite.
  const u = 1 - rng.next();
  const v = rng.next();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

const logit = (p: number) => Math.log(p / (1 - p));
const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

function index(world: Pick<TeacherWorld, 'shape'>, mood: number, topic: number, prev: number): number {
  const { topics, words } = world.shape;
  return (((mood > 0 ? 1 : 0) * topics + topic) * (words + 1) + prev + 1) * words;
}

export function createWorld(seed: number, shape: WorldShape = DEFAULT_WORLD_SHAPE): TeacherWorld {
  const rng = SeededRandom.forStream(seed, STREAM.world);
  const { topics, words } = shape;
  const valence = Float64Array.from({ length: words }, () => 2 * rng.next() - 1);
  const topicOf = Int32Array.from({ length: words }, (_, w) => w % topics);
  rng.shuffle(Array.from(topicOf)).forEach((t, w) => {
    topicOf[w] = t;
  });
  const base = Float64Array.from({ length: (words + 1) * words }, () => BIGRAM_SCALE * gaussian(rng));
  // EOS hazard h_w = σ(logit(1/(meanWords+1)) + EOS_SCALE·z_w): the mean length stays near meanWords.
  const eosProb = Float64Array.from({ length: words }, () => sigmoid(logit(1 / (shape.meanWords + 1)) + EOS_SCALE * gaussian(rng)));
  const logNext = new Float64Array(2 * topics * (words + 1) * words);
  const world: TeacherWorld = { seed, shape, vocabSize: STUDY_IDS.firstTopic + topics + words, valence, topicOf, logNext, eosProb };
  for (const mood of [-1, 1]) {
    for (let t = 0; t < topics; t++) {
      for (let prev = -1; prev < words; prev++) {
        const at = index(world, mood, t, prev);
        let max = -Infinity;
        for (let w = 0; w < words; w++) {
          const l =
            (base[(prev + 1) * words + w] as number) + (topicOf[w] === t ? TOPIC_BOOST : 0) + MOOD_TILT * mood * (valence[w] as number);
          logNext[at + w] = l;
          if (l > max) max = l;
        }
        let sum = 0;
        for (let w = 0; w < words; w++) sum += Math.exp((logNext[at + w] as number) - max);
        const lse = max + Math.log(sum);
        for (let w = 0; w < words; w++) logNext[at + w] = (logNext[at + w] as number) - lse;
      }
    }
  }
  return world;
}

/** A teacher document: topic, mood and words (word indices); `ended` is false when cut at the cap. */
export interface TeacherDocument {
  topic: number;
  mood: number;
  words: number[];
  ended: boolean;
}

function sampleWord(world: TeacherWorld, mood: number, topic: number, prev: number, rng: SeededRandom): number {
  const at = index(world, mood, topic, prev);
  let u = rng.next();
  const last = world.shape.words - 1;
  for (let w = 0; w < last; w++) {
    u -= Math.exp(world.logNext[at + w] as number);
    if (u < 0) return w;
  }
  return last;
}

/** Continues a document from `prefix` (word indices) until EOS or `maxWords` words in total. */
export function continueDocument(
  world: TeacherWorld,
  topic: number,
  mood: number,
  prefix: readonly number[],
  maxWords: number,
  rng: SeededRandom,
): TeacherDocument {
  const words = [...prefix];
  let prev = words.length === 0 ? -1 : (words[words.length - 1] as number);
  while (words.length < maxWords) {
    if (prev >= 0 && rng.next() < (world.eosProb[prev] as number)) return { topic, mood, words, ended: true };
    prev = sampleWord(world, mood, topic, prev, rng);
    words.push(prev);
  }
  return { topic, mood, words, ended: false };
}

/** The teacher's own continuation of a prompt (its hidden mood included), up to maxWords words. */
export function teacherResponse(world: TeacherWorld, prompt: StudyPrompt, rng: SeededRandom): { words: number[]; ended: boolean } {
  const n = prompt.prefix.length;
  const doc = continueDocument(world, prompt.topic, prompt.mood, prompt.prefix, n + world.shape.maxWords, rng);
  return { words: doc.words.slice(n), ended: doc.ended };
}

/** A whole document: a uniform topic and mood, then the chain (at least one word). */
export function sampleDocument(world: TeacherWorld, rng: SeededRandom, maxWords = world.shape.maxWords): TeacherDocument {
  const topic = rng.nextBelow(world.shape.topics);
  const mood = rng.next() < 0.5 ? -1 : 1;
  return continueDocument(world, topic, mood, [], maxWords, rng);
}

/** A prompt: BOS, topic, 2–8 teacher words, SEP (DPO's IMDb experiment used short prefixes). */
export interface StudyPrompt {
  topic: number;
  /** The prefix's words (word indices). */
  prefix: number[];
  /** The mood the prefix was drawn with (hidden from every model; kept for analysis). */
  mood: number;
}

export const PROMPT_WORDS = { min: 2, max: 8 } as const;

export function samplePrompt(world: TeacherWorld, rng: SeededRandom): StudyPrompt {
  const topic = rng.nextBelow(world.shape.topics);
  const mood = rng.next() < 0.5 ? -1 : 1;
  const n = PROMPT_WORDS.min + rng.nextBelow(PROMPT_WORDS.max - PROMPT_WORDS.min + 1);
  const doc = continueDocument(world, topic, mood, [], n, rng);
  // A prefix that hit EOS early is still a valid (shorter) prefix; keep at least one word.
  return { topic, mood, prefix: doc.words.length > 0 ? doc.words : [sampleWord(world, mood, topic, -1, rng)] };
}

export function promptTokens(world: TeacherWorld, prompt: StudyPrompt): number[] {
  return [STUDY_IDS.bos, topicToken(prompt.topic), ...prompt.prefix.map((w) => wordToken(world, w)), STUDY_IDS.sep];
}

/** Prompts from a seeded stream: the same (seed, stream) gives the same prompts. */
export function samplePrompts(world: TeacherWorld, seed: number, stream: number, count: number): StudyPrompt[] {
  const rng = SeededRandom.forStream(seed, stream);
  return Array.from({ length: count }, () => samplePrompt(world, rng));
}

/** One SFT document as tokens: the prompt (first 2–8 words) and the completion (the rest, then EOS). */
export function documentTokens(world: TeacherWorld, doc: TeacherDocument, promptWords: number): { prompt: number[]; completion: number[] } {
  const cut = Math.min(promptWords, Math.max(1, doc.words.length - 1));
  const prompt = promptTokens(world, { topic: doc.topic, mood: doc.mood, prefix: doc.words.slice(0, cut) });
  const rest = doc.words.slice(cut).map((w) => wordToken(world, w));
  return { prompt, completion: doc.ended ? [...rest, STUDY_IDS.eos] : rest };
}

/**
 * log P(words, EOS-or-not | topic, mood, previous word) under the chain: each word's transition and,
 * after each word but the last, the "not EOS" factor; after the last, EOS when `ended`.
 */
function chainLogProb(world: TeacherWorld, topic: number, mood: number, prev: number, words: readonly number[], ended: boolean): number {
  let lp = 0;
  let p = prev;
  for (const w of words) {
    if (p >= 0) lp += Math.log1p(-(world.eosProb[p] as number));
    lp += world.logNext[index(world, mood, topic, p) + w] as number;
    p = w;
  }
  if (ended && p >= 0) lp += Math.log(world.eosProb[p] as number);
  return lp;
}

const logSumExp2 = (a: number, b: number) => Math.max(a, b) + Math.log1p(Math.exp(-Math.abs(a - b)));

/**
 * The teacher's negative log-likelihood per token (nats) of a response (word indices, `ended`:
 * whether it ends with EOS) to a prompt, with the mood marginalised under its posterior given the
 * prompt: −log Σ_m P(m | prompt) P(response | prompt, m) / (|response| + [ended]). A response
 * with a non-word token has infinite NLL. 0 tokens (nothing generated) counts as NLL 0.
 */
export function teacherNll(world: TeacherWorld, prompt: StudyPrompt, words: readonly number[], ended: boolean): number {
  const tokens = words.length + (ended ? 1 : 0);
  if (tokens === 0) return 0;
  if (words.some((w) => w < 0)) return Infinity;
  const last = prompt.prefix[prompt.prefix.length - 1] ?? -1;
  const prefixLp = (m: number) => chainLogProb(world, prompt.topic, m, -1, prompt.prefix, false);
  const [pm, pp] = [prefixLp(-1), prefixLp(1)];
  const joint = logSumExp2(
    pm + chainLogProb(world, prompt.topic, -1, last, words, ended),
    pp + chainLogProb(world, prompt.topic, 1, last, words, ended),
  );
  return -(joint - logSumExp2(pm, pp)) / tokens;
}

/** τ of the gold reward's fluency term: the 90th percentile of the teacher's own continuations' NLL per token. */
export function fluencyThreshold(world: TeacherWorld, samples = 2000): number {
  const rng = SeededRandom.forStream(world.seed, STREAM.tau);
  const nll = Array.from({ length: samples }, () => {
    const prompt = samplePrompt(world, rng);
    const response = teacherResponse(world, prompt, rng);
    return teacherNll(world, prompt, response.words, response.ended);
  }).sort((a, b) => a - b);
  return nll[Math.floor(0.9 * (nll.length - 1))] as number;
}
