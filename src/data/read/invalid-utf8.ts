// Where text stops being UTF-8, for error messages: TextDecoder says only that it failed. Used
// after a failed decode, never on the reading path.

const decodes = (bytes: Uint8Array): boolean => {
  try {
    // stream: true accepts a sequence cut off at the end, so a prefix fails only at a byte that is wrong already.
    new TextDecoder('utf-8', { fatal: true }).decode(bytes, { stream: true });
    return true;
  } catch {
    return false;
  }
};

/** Bytes in the sequence a lead byte starts (RFC 3629 §4); 0 for a byte that starts none. */
const sequenceLength = (b: number) => (b >= 0xc2 && b <= 0xdf ? 2 : b >= 0xe0 && b <= 0xef ? 3 : b >= 0xf0 && b <= 0xf4 ? 4 : 0);

/**
 * Offset of the first invalid sequence of `bytes`, null if all is valid UTF-8. As Python's
 * decoder reports it: a sequence broken off (by a wrong byte, or by the end) is located at its
 * lead byte, a byte that can start nothing at itself.
 */
export function invalidUtf8Offset(bytes: Uint8Array): number | null {
  let failsAt: number; // the byte at which decoding first fails
  if (decodes(bytes)) {
    try {
      new TextDecoder('utf-8', { fatal: true }).decode(bytes);
      return null;
    } catch {
      failsAt = bytes.length; // only a sequence cut off by the end is left
    }
  } else {
    // The prefixes that decode are exactly those that end before the failing byte: bisect for it.
    let good = 0; // the longest prefix known to decode
    let bad = bytes.length; // the shortest prefix known to fail
    while (bad - good > 1) {
      const mid = (good + bad) >>> 1;
      if (decodes(bytes.subarray(0, mid))) good = mid;
      else bad = mid;
    }
    failsAt = bad - 1;
  }
  // An unfinished sequence just before it (a lead byte and fewer continuation bytes than it needs) is the broken one.
  for (let lead = failsAt - 1; lead >= 0 && lead >= failsAt - 3; lead--) {
    const b = bytes[lead] as number;
    if ((b & 0xc0) === 0x80) continue;
    return sequenceLength(b) > failsAt - lead ? lead : failsAt;
  }
  return failsAt;
}
