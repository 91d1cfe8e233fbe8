// Errors a user of the study can cause: a bad method list or preset, a study folder that is not one.
import { AlphaDpoError } from '../errors.js';

export class StudyConfigError extends AlphaDpoError {
  constructor(message: string) {
    super(`study: ${message}`);
  }
}
