// Errors a user can cause when asking for a dashboard or a report: a folder that is not a run,
// a port that is taken, an output path that cannot be written.
import { AlphaDpoError } from '../errors.js';

/** A run folder given to the dashboard or report that cannot be read (missing, or not a folder). */
export class RunSourceError extends AlphaDpoError {}

/** The dashboard could not listen where asked (port taken, address not on this machine). */
export class DashboardListenError extends AlphaDpoError {}
