import Foundation

/// A set of named tensors plus string metadata, saved as one safetensors file: parameters of any number of
/// `ParameterGroup`s under prefixes ("actor.net.0.weight"), optimizer moments, and counters or JSON state in
/// the metadata. Writing is atomic, so a crash while saving never leaves a corrupt checkpoint.
public struct Checkpoint {
  public var tensors: [String: Tensor] = [:]
  public var metadata: [String: String] = [:]

  public init() {}

  /// `value` as compact JSON with sorted keys, for metadata entries. Foundation's encoder writes a struct's keys
  /// in hash order, which changes from process to process, so without sorting two runs with the same seed
  /// wrote checkpoints whose tensors matched bit for bit but whose bytes differed.
  public static func json<T: Encodable>(_ value: T) throws -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    return String(decoding: try encoder.encode(value), as: UTF8.self)
  }

  /// Errors restoring from a checkpoint.
  public enum RestoreError: Error, CustomStringConvertible {
    case missing(String)
    case shapeMismatch(name: String, expected: [Int], found: [Int])
    case badMetadata(String)
    public var description: String {
      switch self {
      case .missing(let name): return "checkpoint has no tensor '\(name)'"
      case .shapeMismatch(let name, let expected, let found): return "checkpoint tensor '\(name)' has shape \(found), the model expects \(expected)"
      case .badMetadata(let key): return "checkpoint metadata '\(key)' is missing or malformed"
      }
    }
  }

  /// Stores every parameter of `group` under `prefix` ("actor." gives "actor.net.0.weight").
  public mutating func store<G: ParameterGroup>(_ group: G, as prefix: String) {
    for (name, value) in group.namedParameters { tensors[prefix + name] = value }
  }

  /// Loads every parameter of `group` from `prefix`, checking names and shapes.
  public func restore<G: ParameterGroup>(_ group: inout G, from prefix: String) throws {
    var failure: RestoreError?
    group.visitParameters(prefix) { name, t in
      guard failure == nil else { return }
      guard let saved = tensors[name] else { failure = .missing(name); return }
      guard saved.shape == t.shape else { failure = .shapeMismatch(name: name, expected: t.shape, found: saved.shape); return }
      t = saved
    }
    if let failure { throw failure }
  }

  /// Stores an optimizer's moments under `prefix` and its step count in the metadata.
  public mutating func store<O: Optimizer>(optimizer: O, as prefix: String) {
    var copy = optimizer
    copy.visitState(prefix) { name, t in tensors[name] = t }
    metadata[prefix + "step"] = String(optimizer.step)
  }

  /// Restores an optimizer's moments and step count; `prepare` must have created state of the right shapes
  /// (e.g. `Adam.prepare(for:)`).
  public func restore<O: Optimizer>(optimizer: inout O, from prefix: String) throws {
    guard let text = metadata[prefix + "step"], let step = Int(text) else { throw RestoreError.badMetadata(prefix + "step") }
    var failure: RestoreError?
    optimizer.visitState(prefix) { name, t in
      guard failure == nil else { return }
      guard let saved = tensors[name] else { failure = .missing(name); return }
      guard saved.shape == t.shape else { failure = .shapeMismatch(name: name, expected: t.shape, found: saved.shape); return }
      t = saved
    }
    if let failure { throw failure }
    optimizer.step = step
  }

  /// Writes the checkpoint atomically.
  public func write(to url: URL) throws { try SafeTensors.write(tensors, metadata: metadata, to: url) }

  /// Reads a checkpoint written by `write(to:)` (or any safetensors file).
  public static func read(from url: URL) throws -> Checkpoint {
    let (tensors, metadata) = try SafeTensors.read(url)
    var c = Checkpoint()
    c.tensors = tensors
    c.metadata = metadata
    return c
  }
}
