import StitchData
import StitchNN

import StitchTensor

/// Two independent pieces of an update, run on the thread's two lanes at once when it has two
/// (`ProductLanes.concurrently`: one hand-off for whole losses instead of one per matrix product, and the
/// elementwise work of both pieces spread over both cores), one after the other when it has one. Each piece runs
/// with one lane for its own products, so the results are bit-identical either way: use these only for pieces
/// that read nothing the other writes. Kept here so that an algorithm's `update` reads as its equations.
enum TwoLanes {
  /// `first(&a)` and `second(&b)` on two disjoint parts of an algorithm's state (IQL: V and the actor; the
  /// critics).
  static func run<A, B, RA, RB>(_ a: inout A, _ first: (inout A) throws -> RA,
                                alongside b: inout B, _ second: (inout B) throws -> RB) throws -> (RA, RB) {
    try withUnsafeMutablePointer(to: &a) { a in
      try withUnsafeMutablePointer(to: &b) { b in
        try ProductLanes.concurrently({ try first(&a.pointee) }, { try second(&b.pointee) })
      }
    }
  }

  /// `body(i)` for i in 0..<count in order, the two calls on two lanes when `count` is 2 (ReBRAC's two critics).
  static func map<R>(_ count: Int, _ body: (Int) throws -> R) throws -> [R] {
    guard count == 2 else { return try (0..<count).map(body) }
    let (first, second) = try ProductLanes.concurrently({ try body(0) }, { try body(1) })
    return [first, second]
  }
}
