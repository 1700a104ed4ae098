import Foundation
import StitchData
import StitchNN
import StitchTensor
import Testing

@testable import StitchAlgorithms

/// What the one-update oracle tests share: reading a fixture made by scripts/fixtures/make_*_fixture*.py,
/// building a batch from its `batchK.*` tensors, and comparing Stitch's tensors with the reference's (PyTorch or JAX).
enum Oracle {
  /// The tensors of `Fixtures/<file>`.
  static func load(_ file: String) throws -> [String: Tensor] {
    let url = try #require(Bundle.module.url(forResource: "Fixtures/\(file)", withExtension: nil))
    return try SafeTensors.read(url).0
  }

  /// A checkpoint holding every fixture tensor, to restore networks from by their Stitch names.
  static func checkpoint(_ t: [String: Tensor]) -> Checkpoint {
    var c = Checkpoint()
    c.tensors = t
    return c
  }

  static func tensor(_ t: [String: Tensor], _ name: String) throws -> Tensor {
    try #require(t[name], "fixture lacks \(name)")
  }

  /// The batch stored under `batchK.` (next actions where the fixture has them).
  /// `prefix` replaces `batchK.` for fixtures that name their batches otherwise.
  static func batch(_ t: [String: Tensor], _ k: Int, size: Int, observationDim: Int = 3, actionDim: Int = 2, prefix: String? = nil) throws -> Batch {
    let p = prefix ?? "batch\(k)."
    var b = Batch(size: size, observationDim: observationDim, actionDim: actionDim)
    b.observations = try tensor(t, p + "observations")
    b.actions = try tensor(t, p + "actions")
    b.rewards = try tensor(t, p + "rewards").reshaped([size, 1])
    b.nextObservations = try tensor(t, p + "next_observations")
    b.terminals = try tensor(t, p + "terminals").reshaped([size, 1])
    if let next = t[p + "next_actions"] { b.nextActions = next }
    if let returns = t[p + "returns_to_go"] { b.returnsToGo = returns.reshaped([size, 1]) }
    return b
  }

  /// Elementwise |a − b| ≤ absolute + relative·|b| (b is the reference's value).
  static func close(_ a: Tensor, _ b: Tensor, _ what: String, relative: Float = 2e-4, absolute: Float = 2e-6) {
    #expect(a.shape == b.shape, "\(what): shape \(a.shape) vs \(b.shape)")
    let worst = zip(a.scalars, b.scalars).map { Swift.abs($0 - $1) / (absolute + relative * Swift.abs($1)) }.max() ?? 0
    #expect(worst <= 1, "\(what): worst error ratio \(worst) (Stitch \(a.scalars.prefix(4)), reference \(b.scalars.prefix(4)))")
  }

  /// A logged metric against the fixture's one-element tensor `name`.
  static func close(_ metrics: Metrics, _ key: String, _ t: [String: Tensor], _ name: String) throws {
    close(Tensor([Float(metrics[key] ?? .nan)]), try tensor(t, name), name)
  }

  /// Every parameter of each group against the fixture's `prefix + group + name`.
  static func compare(_ t: [String: Tensor], _ prefix: String, _ groups: [(String, [(name: String, value: Tensor)])]) throws {
    for (group, parameters) in groups {
      for (name, p) in parameters { close(p, try tensor(t, prefix + group + name), prefix + group + name) }
    }
  }
}
