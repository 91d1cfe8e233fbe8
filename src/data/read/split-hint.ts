// What an error about splits tells the user to do: every way a split is chosen, with the split
// names this source really has filled in, so the fix can be copied.

/**
 * The sentence after "which splits exist": the training config key, the data commands' flag, the
 * API option, and (unless the source is one already) a map from split names to files.
 */
export function howToChooseSplit(splits: readonly string[], sourceIsMap = false): string {
  const first = splits[0] ?? 'train';
  const second = splits.find((s) => s !== first) ?? 'test';
  return (
    `Choose one with dataset_splits: [${first}, ${second}] in a training config (the first split trains, the second evaluates; ` +
    `default [train, test]), --split ${first} for alpha-dpo data commands${sourceIsMap ? ' or' : ','} the split option of loadPreferenceDataset` +
    (sourceIsMap ? '.' : ', or give the data as a map of split names to files ({ train: files, test: files }).')
  );
}
