// The base class of every error this package throws for something a user can fix (a bad config
// key, file, row, checkpoint or tensor op). `catch (e) { if (e instanceof AlphaDpoError) ... }`
// separates those from bugs (TypeError, ReferenceError). This module imports nothing, so every
// layer, down to the native loader, may use it.

/** An error a user can cause and fix; the message says what to do. `name` is the class's name. */
export class AlphaDpoError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}
