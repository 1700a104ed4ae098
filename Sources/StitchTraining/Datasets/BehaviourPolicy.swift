import Foundation
import StitchAlgorithms
import StitchData
import StitchDiffusion
import StitchEnvironments
import StitchNN
import StitchTensor

/// A small stochastic policy shipped with Stitch to make datasets: a SAC actor (tanh-Gaussian MLP) in a
/// safetensors file whose metadata names the task, hidden sizes, training steps and measured return.
public struct BehaviourPolicy: Sendable {
  public var task: String
  public var kind: String
  public var actor: MLP
  public var scaling: ActionScaling
  public var metadata: [String: String]

  /// Errors loading a behaviour policy.
  public enum LoadError: Error, CustomStringConvertible {
    case notBundled(String, available: [String])
    case malformed(String)
    public var description: String {
      switch self {
      case .notBundled(let name, let available): return "no bundled behaviour policy '\(name)'; available: \(available.joined(separator: ", "))"
      case .malformed(let s): return "behaviour policy file is malformed: \(s)"
      }
    }
  }

  /// Saves a SAC actor as a behaviour policy file.
  public static func save(actor: MLP, task: String, kind: String, scaling: ActionScaling, metadata: [String: String], to url: URL) throws {
    var c = Checkpoint()
    c.store(actor, as: "actor.")
    c.metadata = metadata
    c.metadata["task"] = task
    c.metadata["kind"] = kind
    c.metadata["hidden_sizes"] = actor.hidden.map { String($0.outputSize) }.joined(separator: ",")
    c.metadata["action_low"] = scaling.low.map { String($0) }.joined(separator: ",")
    c.metadata["action_high"] = scaling.high.map { String($0) }.joined(separator: ",")
    try c.write(to: url)
  }

  /// Loads a behaviour policy file.
  public static func load(_ url: URL) throws -> BehaviourPolicy {
    let c = try Checkpoint.read(from: url)
    guard let task = c.metadata["task"], let kind = c.metadata["kind"],
          let w0 = c.tensors["actor.net.0.weight"], let hiddenText = c.metadata["hidden_sizes"] else {
      throw LoadError.malformed("\(url.path) lacks task, kind, hidden_sizes or actor weights")
    }
    let hidden = hiddenText.split(separator: ",").compactMap { Int($0) }
    let low = (c.metadata["action_low"] ?? "").split(separator: ",").compactMap { Double($0) }
    let high = (c.metadata["action_high"] ?? "").split(separator: ",").compactMap { Double($0) }
    var rng = RandomStream(seed: 0)
    var actor = MLP(inputSize: w0.shape[1], hiddenSizes: hidden, outputSize: 2 * low.count, rng: &rng)
    try c.restore(&actor, from: "actor.")
    return BehaviourPolicy(task: task, kind: kind, actor: actor, scaling: ActionScaling(low: low, high: high), metadata: c.metadata)
  }

  /// The policies shipped with Stitch ("pendulum-medium", "pendulum-expert", ...).
  public static var bundledNames: [String] {
    guard let folder = Bundle.module.url(forResource: "policies", withExtension: nil, subdirectory: "Resources"),
          let files = try? FileManager.default.contentsOfDirectory(atPath: folder.path) else { return [] }
    return files.filter { $0.hasSuffix(".safetensors") }.map { String($0.dropLast(".safetensors".count)) }.sorted()
  }

  /// Loads a bundled policy by name.
  public static func bundled(_ name: String) throws -> BehaviourPolicy {
    guard let url = Bundle.module.url(forResource: name, withExtension: "safetensors", subdirectory: "Resources/policies") else {
      throw LoadError.notBundled(name, available: bundledNames)
    }
    return try load(url)
  }

  /// A stochastic (exploring) or deterministic action in environment units.
  public func act(_ observation: [Double], exploring: Bool, rng: inout RandomStream) -> [Double] {
    let out = actor(Tensor(shape: [1, observation.count], scalars: observation.map(Float.init)))
    let d = out.shape[1] / 2
    let dist = TanhGaussian(mean: out.slice(lastAxis: 0..<d), logStd: out.slice(lastAxis: d..<(2 * d)).clamped(min: -20, max: 2))
    let a = exploring ? dist.sampleWithLogProbability(using: &rng).action : dist.mode
    return scaling.toEnvironment(a.scalars)
  }
}
