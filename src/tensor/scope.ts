// Deterministic release of tensors: every Tensor created while a scope is open is recorded in
// it; when the scope's function returns, every recorded tensor that is not part of the result
// (or kept with keep()) is disposed. Scopes nest; returned tensors move to the enclosing scope.

export interface Releasable {
  dispose(): void;
}

const stack: Set<Releasable>[] = [];

/** Records a new tensor in the innermost open scope, if any. */
export function track(t: Releasable): void {
  const top = stack[stack.length - 1];
  if (top !== undefined) top.add(t);
}

/** Takes a tensor out of every open scope, so it outlives them; the caller then owns it. */
export function keep<T extends Releasable>(t: T): T {
  for (const s of stack) s.delete(t);
  return t;
}

// The recorded tensors reachable from a result: the value itself, or inside arrays, Maps and
// plain objects (to a depth of 8).
function reachable(value: unknown, scope: Set<Releasable>, out: Set<Releasable>, depth: number): void {
  if (value === null || typeof value !== 'object' || depth > 8) return;
  if (scope.has(value as Releasable)) {
    out.add(value as Releasable);
    return;
  }
  if (Array.isArray(value)) {
    for (const v of value) reachable(v, scope, out, depth + 1);
  } else if (value instanceof Map) {
    for (const v of value.values()) reachable(v, scope, out, depth + 1);
  } else if (Object.getPrototypeOf(value) === Object.prototype) {
    for (const v of Object.values(value)) reachable(v, scope, out, depth + 1);
  }
}

/**
 * Runs `fn` and disposes every tensor it created, except those it returns (alone, or in arrays,
 * Maps or plain objects). Like tf.tidy. `fn` must be synchronous.
 */
export function tidy<T>(fn: () => T): T {
  const scope = new Set<Releasable>();
  stack.push(scope);
  let result: T;
  try {
    result = fn();
  } catch (e) {
    stack.pop();
    for (const t of scope) t.dispose();
    throw e;
  }
  stack.pop();
  if (result instanceof Promise) {
    for (const t of scope) t.dispose();
    throw new TypeError('tidy() needs a synchronous function: tensors cannot be tracked across an await');
  }
  const kept = new Set<Releasable>();
  reachable(result, scope, kept, 0);
  for (const t of scope) if (!kept.has(t)) t.dispose();
  const parent = stack[stack.length - 1];
  if (parent !== undefined) for (const t of kept) parent.add(t);
  return result;
}

/** Number of scopes open now (0 outside tidy()). */
export function scopeDepth(): number {
  return stack.length;
}
