/// Custom differentiable operations for other modules: compute the output with raw buffer loops, then record it
/// with its backward function.
extension Tensor {
  /// Records this freshly computed tensor as a function of `input`; `backward` maps the upstream gradient to
  /// the gradient with respect to `input`. Outside a tape this returns `self` and never calls `backward`.
  public func recorded(from input: Tensor, _ backward: @escaping (Tensor) -> Tensor) -> Tensor {
    var out = self
    out.node = nil
    return Tape.record(out, [input]) { g, _ in [backward(g)] }
  }

  /// Records this freshly computed tensor as a function of several inputs; `backward` returns one gradient per
  /// input (nil where an input gets none).
  public func recorded(from inputs: [Tensor], _ backward: @escaping (Tensor) -> [Tensor?]) -> Tensor {
    var out = self
    out.node = nil
    return Tape.record(out, inputs) { g, _ in backward(g) }
  }
}
