/// A value that holds trainable tensors: layers, networks, whole agents.
///
/// Conformers visit each trainable tensor in a fixed order under a stable name ("net.0.weight"); gradients,
/// optimizers, Polyak averaging and checkpoints are all built on this one method. Layers are structs, so
/// `var target = critic` is a target network.
///
/// ```swift
/// struct Critic: ParameterGroup {
///   var l1: Linear, l2: Linear
///   mutating func visitParameters(_ prefix: String, _ visit: (String, inout Tensor) -> Void) {
///     l1.visitParameters(prefix + "l1.", visit)
///     l2.visitParameters(prefix + "l2.", visit)
///   }
/// }
/// ```
public protocol ParameterGroup {
  /// Calls `visit` on each trainable tensor with its full name (`prefix` + local name), always in the same order.
  mutating func visitParameters(_ prefix: String, _ visit: (String, inout Tensor) -> Void)
}

extension Tensor: ParameterGroup {
  /// A bare tensor is a group of one parameter named by the prefix (without a trailing dot).
  public mutating func visitParameters(_ prefix: String, _ visit: (String, inout Tensor) -> Void) {
    visit(prefix.hasSuffix(".") ? String(prefix.dropLast()) : prefix, &self)
  }
}

extension Array: ParameterGroup where Element: ParameterGroup {
  /// Elements are named by index: "0.", "1.", ...
  public mutating func visitParameters(_ prefix: String, _ visit: (String, inout Tensor) -> Void) {
    for i in indices { self[i].visitParameters(prefix + "\(i).", visit) }
  }
}

extension ParameterGroup {
  /// The names and values of every parameter, in visiting order.
  public var namedParameters: [(name: String, value: Tensor)] {
    var copy = self
    var out: [(String, Tensor)] = []
    copy.visitParameters("") { name, t in out.append((name, t)) }
    return out
  }

  /// The total number of scalar parameters.
  public var parameterCount: Int { namedParameters.reduce(0) { $0 + $1.value.count } }

  /// Visits this group's parameters and `other`'s (same structure) in lockstep: `body(name, &mine, theirs)`.
  /// - Precondition: both groups have the same parameter names and shapes (e.g. a model and its gradient).
  public mutating func updateParameters(
    alongside other: Self, _ body: (String, inout Tensor, Tensor) -> Void
  ) {
    let theirs = other.namedParameters
    var i = 0
    visitParameters("") { name, t in
      precondition(i < theirs.count && theirs[i].name == name && theirs[i].value.shape == t.shape,
                   "parameter groups differ at \(name)")
      body(name, &t, theirs[i].value)
      i += 1
    }
  }

  /// Polyak averaging of target networks: θ_target ← (1 − τ)·θ_target + τ·θ (Lillicrap et al. 2015, DDPG, §7).
  /// - Parameters:
  ///   - source: the online network.
  ///   - rate: τ, e.g. 0.005.
  public mutating func moveTowards(_ source: Self, rate: Float) {
    updateParameters(alongside: source) { _, target, online in
      target.withUnsafeMutableBufferPointer { t in
        online.withUnsafeBufferPointer { o in
          let keep = 1 - rate
          ProductLanes.parallelFor(t.count) { r in for j in r { t[j] = keep * t[j] + rate * o[j] } }
        }
      }
    }
  }
}
