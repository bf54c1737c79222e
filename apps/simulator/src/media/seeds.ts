/**
 * Seeds of the simulated media. WARNING: tests (here and in other packages) recompute expected
 * sha256 values from these strings; changing a format changes every expected hash.
 */
export const generationSeed = (model: string, prompt: string, index: number): string => `${model}|${prompt}|${index}`;

/** Edits and image-conditioned requests also depend on the sha256 (hex) of each input image. */
export const editSeed = (model: string, prompt: string, index: number, inputSha256s: readonly string[]): string =>
  `${generationSeed(model, prompt, index)}|${inputSha256s.join(',')}`;

export const mediaSeed = (model: string, prompt: string, index: number, inputSha256s: readonly string[]): string =>
  inputSha256s.length === 0 ? generationSeed(model, prompt, index) : editSeed(model, prompt, index, inputSha256s);
