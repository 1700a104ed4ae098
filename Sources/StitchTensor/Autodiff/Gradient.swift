/// Errors found while computing a value and its gradient.
public enum TensorError: Error, CustomStringConvertible, Equatable {
  /// Two operands had incompatible shapes; the message names the operation and the shapes.
  case shapeMismatch(String)
  /// The loss was NaN or infinite.
  case nonFiniteLoss(Float)
  /// The closure returned a tensor with more than one element.
  case nonScalarLoss([Int])

  public var description: String {
    switch self {
    case .shapeMismatch(let message): return "shape mismatch: \(message)"
    case .nonFiniteLoss(let value): return "the loss is \(value) (not finite): check learning rates, inputs and rewards for NaN or overflow"
    case .nonScalarLoss(let shape): return "the loss must have one element, got shape \(shape)"
    }
  }
}

/// The value of `body(model)` and its gradient with respect to every parameter of `model`.
///
/// The gradient has the model's own type: each parameter tensor replaced by ∂loss/∂parameter (zeros where the
/// loss does not depend on it), so an optimizer visits model and gradient in lockstep.
///
/// ```swift
/// let (loss, grad) = try valueWithGradient(at: critic) { critic in
///   (critic(observations) - targets).square().mean()
/// }
/// optimizer.update(&critic, along: grad)
/// ```
/// Everything `body` computes from values that are not parameters of `model` (data, target networks, other
/// models) is treated as constant.
/// - Throws: `TensorError` for shape mismatches inside `body`, a non-finite loss or a loss with several elements,
///   and any error `body` throws.
public func valueWithGradient<Model: ParameterGroup>(
  at model: Model, _ body: (Model) throws -> Tensor
) throws -> (value: Float, gradient: Model) {
  let tape = Tape()
  let saved = Tape.current
  Tape.setCurrent(tape)
  var tracked = model
  tracked.visitParameters("") { _, t in tape.leaf(&t) }
  let loss: Tensor
  do {
    defer { Tape.setCurrent(saved) }
    loss = try body(tracked)
  }
  if let message = tape.firstError { throw TensorError.shapeMismatch(message) }
  guard loss.count == 1 else { throw TensorError.nonScalarLoss(loss.shape) }
  let value = loss.scalar
  guard value.isFinite else { throw TensorError.nonFiniteLoss(value) }
  let grads = tape.gradients(of: loss)
  var gradient = tracked
  gradient.visitParameters("") { _, t in
    if let id = t.node, tape.owns(id), let g = grads[Int(id.index)] {
      t = g.reshaped(t.shape).detached()
    } else {
      t = Tensor.zeros(t.shape)
    }
    t.node = nil
  }
  return (value, gradient)
}

/// Gradients of `body` with respect to each of `tensors` (a lower-level form of `valueWithGradient`).
public func gradients(at tensors: [Tensor], _ body: ([Tensor]) throws -> Tensor) throws -> (value: Float, gradients: [Tensor]) {
  let (value, grads) = try valueWithGradient(at: tensors, body)
  return (value, grads)
}

/// Runs `body` with no gradient recording even inside `valueWithGradient` (e.g. a target computation).
public func withoutGradients<R>(_ body: () throws -> R) rethrows -> R {
  try Tape.suspended(body)
}
