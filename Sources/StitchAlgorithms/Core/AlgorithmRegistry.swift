import StitchData
import StitchNN
import StitchTensor

/// Every algorithm Stitch can train, by CLI id (d3rlpy's `register_learnable`). New algorithms add one line.
public enum AlgorithmRegistry {
  /// Offline algorithms (trained from a dataset).
  public static let offline: [any Algorithm.Type] = [BC.self, TD3BC.self, IQL.self, CQL.self, CalQL.self, ReBRAC.self, SACN.self, EDAC.self,
                                                    MBPO.self, MOPO.self, MOBILE.self, RAVL.self, WSRL.self]
  /// Online algorithms (trained by interacting with the environment).
  public static let online: [any Algorithm.Type] = [SAC.self, RLPD.self]

  public static var all: [any Algorithm.Type] { offline + online }

  /// The algorithm with CLI id `id`, or nil.
  public static func named(_ id: String) -> (any Algorithm.Type)? {
    all.first { $0.id == id.lowercased() }
  }

  /// Whether `type` trains online.
  public static func isOnline(_ type: any Algorithm.Type) -> Bool { online.contains { $0.id == type.id } }
}

/// Code that needs an algorithm's concrete type (the CLI) implements this and is called back with it, so
/// registries can hold `any Algorithm.Type` without opening existentials by hand.
public protocol AlgorithmVisitor {
  associatedtype Result
  func visit<A: Algorithm>(_ type: A.Type) throws -> Result
}

extension Algorithm {
  /// Calls `visitor` with this algorithm's concrete type.
  public static func accept<V: AlgorithmVisitor>(_ visitor: V) throws -> V.Result { try visitor.visit(Self.self) }
}

/// Dispatches a visitor on an algorithm type held as an existential.
public func withAlgorithm<V: AlgorithmVisitor>(_ type: any Algorithm.Type, _ visitor: V) throws -> V.Result {
  try type.accept(visitor)
}
