// A row as read from a file, before any format is applied: a parsed JSON value, or the reason
// its text could not be parsed. Either way it knows where it came from.
import type { RowLocation } from '../row-location.js';

export type RawRow = { location: RowLocation; value: unknown } | { location: RowLocation; parseError: string };
