// The LenTrap study (docs/study.md): a teacher language with hidden valence, a length-neutral gold
// reward, a length-biased judge, on-policy pairs from an SFT model, method grids through the
// trainer, and a report with bootstrap intervals. `alpha-dpo study` (src/cli/study.ts) runs it.
export { type EvalSet, evaluateCheckpoint, type ScoredSamples, sampleAndScore } from './evaluate-checkpoint.js';
export { type SampleKl, sampleKl } from './exact-kl.js';
export { goldReward, goldTerms, responseFromTokens } from './gold-reward.js';
export { fitLcWinRate, type LcFit, type LcObservation } from './lc-win-rate.js';
export { calibrateJudge, judgeReward, type LengthJudge, longerWinsRate } from './length-judge.js';
export { PLAN_FILE, plannedRuns, type RunStudyOptions, runStudy, type StudyPlan, type StudyProgress } from './run-study.js';
export { analyseStudy, type StudyAnalysis } from './study-analysis.js';
export { StudyConfigError } from './study-errors.js';
export { REPORT_FILES, readStudyFolder, writeStudyReport } from './study-folder.js';
export { REPORT_SECTIONS, studyReportHtml, studyReportMarkdown } from './study-report.js';
export { checkMethods, gridConfigs, PRESETS, type PresetName, type StudyMethod, type StudyPreset } from './study-settings.js';
export { hierarchicalBootstrap, holmAdjust, welchTest } from './study-statistics.js';
export { createWorld, type TeacherWorld, teacherNll } from './teacher-language.js';
