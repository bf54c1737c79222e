/** A MediaSource that cannot be turned into bytes: the job's input is at fault, not the gateway. */
export class MediaInputError extends Error {
  override readonly name = 'MediaInputError';
}
