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
  /// - Throws: `LoadError.malformed` naming the file and the field (a metadata key or tensor) that is missing, of
  ///   the wrong shape or not finite; the checkpoint reader's error for a file that is not safetensors.
  public static func load(_ url: URL) throws -> BehaviourPolicy {
    let c = try Checkpoint.read(from: url)
    func malformed(_ problem: String) -> LoadError { .malformed("\(url.path): \(problem)") }
    guard let task = c.metadata["task"], let kind = c.metadata["kind"],
          let w0 = c.tensors["actor.net.0.weight"], let hiddenText = c.metadata["hidden_sizes"] else {
      throw malformed("lacks task, kind, hidden_sizes or actor weights")
    }
    guard w0.shape.count == 2, w0.shape[0] > 0, w0.shape[1] > 0 else {
      throw malformed("tensor 'actor.net.0.weight' has shape \(w0.shape); expected [hidden, observation width]")
    }
    let hiddenParts = hiddenText.split(separator: ",", omittingEmptySubsequences: false)
    let hidden = hiddenParts.compactMap { Int($0) }.filter { $0 > 0 }
    guard !hiddenText.isEmpty, hidden.count == hiddenParts.count else {
      throw malformed("metadata 'hidden_sizes' = '\(hiddenText)' is not a comma-separated list of positive integers")
    }
    func bounds(_ key: String) throws -> [Double] {
      let text = c.metadata[key] ?? ""
      let parts = text.split(separator: ",", omittingEmptySubsequences: false)
      let values = parts.compactMap { Double($0) }.filter(\.isFinite)
      guard !text.isEmpty, values.count == parts.count else { throw malformed("metadata '\(key)' = '\(text)' is not a comma-separated list of finite numbers") }
      return values
    }
    let low = try bounds("action_low"), high = try bounds("action_high")
    guard low.count == high.count, zip(low, high).allSatisfy({ $0 < $1 }) else {
      throw malformed("metadata 'action_low' and 'action_high' (\(low.count) and \(high.count) values) do not bound a box (each low below its high)")
    }
    // The actor the metadata describes must fit in the tensors the file holds, checked before it is built ('hidden_sizes'
    // = '4000000000' allocated 16 GB). Found by FuzzSafeTensors (docs/fuzzing.md).
    let widths = [w0.shape[1]] + hidden + [2 * low.count]
    var implied = 0
    for (n, m) in zip(widths, widths.dropFirst()) {
      let (weights, o1) = n.multipliedReportingOverflow(by: m)
      let (sum, o2) = implied.addingReportingOverflow(weights)
      guard !o1, !o2 else { implied = .max; break }
      implied = sum.addingReportingOverflow(m).overflow ? .max : sum + m
    }
    let stored = c.tensors.filter { $0.key.hasPrefix("actor.") }.values.reduce(0) { $0 + $1.count }
    guard implied <= stored else {
      throw malformed("metadata 'hidden_sizes' = '\(hiddenText)' and \(low.count) action bounds imply \(implied == .max ? "too many" : String(implied)) actor parameters; the file holds \(stored)")
    }
    var rng = RandomStream(seed: 0)
    var actor = MLP(inputSize: w0.shape[1], hiddenSizes: hidden, outputSize: 2 * low.count, rng: &rng)
    do { try c.restore(&actor, from: "actor.") } catch { throw malformed("\(error)") }
    var problem: String? = nil
    actor.visitParameters("actor.") { name, t in
      if problem == nil, !t.scalars.allSatisfy(\.isFinite) { problem = "tensor '\(name)' holds NaN or infinite values" }
    }
    if let problem { throw malformed(problem) }
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
  /// - Throws: `TensorError.shapeMismatch` when `observation` is not as wide as the policy's input.
  public func act(_ observation: [Double], exploring: Bool, rng: inout RandomStream) throws -> [Double] {
    try actWithLogProbability(observation, exploring: exploring, rng: &rng).action
  }

  /// An action as `act` draws it (the same random numbers) and the policy's log-density of it, as D4RL records
  /// `infos/action_log_probs`: the tanh-Gaussian density of the action in the policy's [−1, 1] box (for a
  /// deterministic action, the density at the mode).
  public func actWithLogProbability(_ observation: [Double], exploring: Bool, rng: inout RandomStream) throws -> (action: [Double], logProbability: Double) {
    guard observation.count == actor.inputSize else {
      throw TensorError.shapeMismatch("behaviour policy \(task)-\(kind) takes \(actor.inputSize)-wide observations, got \(observation.count)")
    }
    let out = try checkingShapes { actor(Tensor(shape: [1, observation.count], scalars: observation.map(Float.init))) }
    let d = out.shape[1] / 2
    let dist = TanhGaussian(mean: out.slice(lastAxis: 0..<d), logStd: out.slice(lastAxis: d..<(2 * d)).clamped(min: -20, max: 2))
    if exploring {
      let (a, logProb) = dist.sampleWithLogProbability(using: &rng)
      return (scaling.toEnvironment(a.scalars), Double(logProb.scalars[0]))
    }
    return (scaling.toEnvironment(dist.mode.scalars), Double(dist.logProbability(preTanh: dist.base.mean).scalars[0]))
  }
}
