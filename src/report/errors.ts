// Errors a user can cause when asking for a dashboard or a report: a folder that is not a run,
// a port that is taken, an output path that cannot be written.

/** A run folder given on the command line that cannot be used (missing, or not a folder). */
export class RunFolderError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RunFolderError';
  }
}

/** The dashboard could not listen where asked (port taken, address not on this machine). */
export class DashboardListenError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DashboardListenError';
  }
}
