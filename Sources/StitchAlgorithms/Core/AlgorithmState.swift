import StitchData
import StitchNN

import StitchTensor

/// An algorithm's resumable state listed once: every network, optimizer, random stream, counter and other tensor
/// it must save to resume bit-exactly, each with its checkpoint key. `store(into:)` and `restore(from:)` both walk
/// this one list (`CheckpointWriter`, `CheckpointReader`), so the two can no longer drift apart: a field added to
/// the list is saved and restored, and a field left out of it is neither.
public protocol AlgorithmState {
  /// Shows `visitor` each piece of state with its key, always in the same order. A writer only reads the values;
  /// a reader replaces them, so an implementation passes its own stored properties, never copies.
  mutating func visitState<V: StateVisitor>(_ visitor: inout V) throws(V.Failure)
}

/// What walks an `AlgorithmState`: one method per kind of state. Keys are the checkpoint's names: a network's or
/// optimizer's prefix ("actor.", "critic_optimizer."), a random stream's or counter's metadata key.
public protocol StateVisitor {
  associatedtype Failure: Error
  /// Every parameter of `network` under `prefix` ("actor." gives "actor.net.0.weight").
  mutating func network<G: ParameterGroup>(_ network: inout G, _ prefix: String) throws(Failure)
  /// An Adam optimizer of `model`: its moments under `prefix` and its step count at `prefix + "step"`. An
  /// optimizer that has not stepped has no moments and saves only its step (0); a restored one that has stepped
  /// is first given zero moments shaped like `model` (`Adam.prepare(for:)`), then the saved ones.
  mutating func optimizer<G: ParameterGroup>(_ optimizer: inout Adam, _ prefix: String, of model: G) throws(Failure)
  /// A random stream (state and increment) in the metadata at `key`.
  mutating func randomStream(_ stream: inout RandomStream, _ key: String) throws(Failure)
  /// An integer counter (updates so far) in the metadata at `key`.
  mutating func counter(_ value: inout Int, _ key: String) throws(Failure)
}

extension StateVisitor {
  /// A bare tensor (a learned log-temperature) at `key`.
  public mutating func tensor(_ value: inout Tensor, _ key: String) throws(Failure) { try network(&value, key) }
}

/// Saves each visited piece of state into a checkpoint.
public struct CheckpointWriter: StateVisitor {
  public var checkpoint: Checkpoint
  public init(into checkpoint: Checkpoint) { self.checkpoint = checkpoint }

  public mutating func network<G: ParameterGroup>(_ network: inout G, _ prefix: String) {
    checkpoint.store(network, as: prefix)
  }
  public mutating func optimizer<G: ParameterGroup>(_ optimizer: inout Adam, _ prefix: String, of model: G) {
    checkpoint.store(optimizer: optimizer, as: prefix)
  }
  public mutating func randomStream(_ stream: inout RandomStream, _ key: String) { checkpoint.store(stream, as: key) }
  public mutating func counter(_ value: inout Int, _ key: String) { checkpoint.metadata[key] = String(value) }
}

/// Replaces each visited piece of state with the checkpoint's, throwing `Checkpoint.RestoreError` naming the first
/// key that is missing, malformed or of the wrong shape.
public struct CheckpointReader: StateVisitor {
  public typealias Failure = any Error
  public let checkpoint: Checkpoint
  public init(from checkpoint: Checkpoint) { self.checkpoint = checkpoint }

  public mutating func network<G: ParameterGroup>(_ network: inout G, _ prefix: String) throws {
    try checkpoint.restore(&network, from: prefix)
  }
  public mutating func optimizer<G: ParameterGroup>(_ optimizer: inout Adam, _ prefix: String, of model: G) throws {
    guard let step = checkpoint.metadata[prefix + "step"].flatMap({ Int($0) }), step >= 0 else {
      throw Checkpoint.RestoreError.badMetadata(prefix + "step")
    }
    guard step > 0 else {
      // Never stepped: no moments were saved (`Adam` creates them at its first update), so none are read.
      optimizer.step = 0
      return
    }
    optimizer.prepare(for: model)
    try checkpoint.restore(optimizer: &optimizer, from: prefix)
  }
  public mutating func randomStream(_ stream: inout RandomStream, _ key: String) throws {
    stream = try checkpoint.randomStream(key)
  }
  public mutating func counter(_ value: inout Int, _ key: String) throws { value = try checkpoint.counter(key) }
}

extension AlgorithmState {
  /// Saves the state into `checkpoint` (what `Algorithm.store(into:)` does for a conforming algorithm).
  public func storeState(into checkpoint: inout Checkpoint) {
    var copy = self
    var writer = CheckpointWriter(into: checkpoint)
    copy.visitState(&writer)
    checkpoint = writer.checkpoint
  }

  /// Restores what `storeState(into:)` saved. On an error the state is left as it was (the new values are
  /// applied only when every key has been read).
  public mutating func restoreState(from checkpoint: Checkpoint) throws {
    var copy = self
    var reader = CheckpointReader(from: checkpoint)
    try copy.visitState(&reader)
    self = copy
  }
}

extension Algorithm where Self: AlgorithmState {
  public func store(into checkpoint: inout Checkpoint) { storeState(into: &checkpoint) }
  public mutating func restore(from checkpoint: Checkpoint) throws { try restoreState(from: checkpoint) }
}
