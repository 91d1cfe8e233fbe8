// Where each row of a JSON file starts. JSON.parse gives no positions, so this scans the
// (already validated) text once: the element starts of the root array, or of each array that
// is a value of the root object ({"train": [...], "test": [...]}), as 1-based line numbers.

export interface JsonElementLines {
  /** Line of each element of the root array (empty when the root is an object). */
  root: number[];
  /** Line of each element of each array-valued key of the root object. */
  byKey: Map<string, number[]>;
}

const isSpace = (c: number) => c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;

/** Scans valid JSON `text`; strings (with escapes) are skipped so brackets inside them do not count. */
export function jsonElementLines(text: string): JsonElementLines {
  const result: JsonElementLines = { root: [], byKey: new Map() };
  // Each open container: its bracket, whether an element (or key) may start next, and where its element lines go.
  const stack: { array: boolean; expecting: boolean; lines: number[] | null }[] = [];
  let line = 1;
  let lastKey: string | null = null;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x0a) {
      line += 1;
      continue;
    }
    if (isSpace(c)) continue;
    const top = stack[stack.length - 1];
    if (top?.array && top.expecting && c !== 0x5d) {
      top.lines?.push(line);
      top.expecting = false;
    }
    if (c === 0x22) {
      // A string: find its end, honouring backslash escapes; remember it when it is a key of the root object.
      let j = i + 1;
      while (j < text.length && text.charCodeAt(j) !== 0x22) j += text.charCodeAt(j) === 0x5c ? 2 : 1;
      if (stack.length === 1 && top !== undefined && !top.array && top.expecting) {
        lastKey = JSON.parse(text.slice(i, j + 1)) as string;
        top.expecting = false;
      }
      i = j;
    } else if (c === 0x5b || c === 0x7b) {
      const array = c === 0x5b;
      let lines: number[] | null = null;
      if (array && stack.length === 0) lines = result.root;
      else if (array && stack.length === 1 && top !== undefined && !top.array && lastKey !== null) {
        lines = [];
        result.byKey.set(lastKey, lines);
      }
      stack.push({ array, expecting: true, lines });
    } else if (c === 0x5d || c === 0x7d) {
      stack.pop();
    } else if (c === 0x2c && top !== undefined) {
      top.expecting = true;
    }
  }
  return result;
}
