/// A box-shaped space of real vectors with per-element bounds (Gymnasium's `spaces.Box`).
public struct Box: Sendable, Equatable, Codable {
  public var low: [Double]
  public var high: [Double]
  public var shape: [Int]

  public init(low: [Double], high: [Double]) {
    precondition(low.count == high.count, "Box bounds differ in length")
    self.low = low
    self.high = high
    shape = [low.count]
  }

  /// A box with the same bound for every element.
  public init(low: Double, high: Double, size: Int) {
    self.init(low: Array(repeating: low, count: size), high: Array(repeating: high, count: size))
  }

  public var size: Int { low.count }

  /// Whether `x` lies in the box (bounds included).
  public func contains(_ x: [Double]) -> Bool {
    x.count == size && zip(x, zip(low, high)).allSatisfy { $0 >= $1.0 && $0 <= $1.1 }
  }

  /// `x` clipped into the box.
  public func clip(_ x: [Double]) -> [Double] {
    zip(x, zip(low, high)).map { Swift.min(Swift.max($0, $1.0), $1.1) }
  }
}

extension Box: CustomStringConvertible {
  /// Gymnasium's style: `Box(-inf, inf, (17,))` when every element shares its bounds, else the bound lists.
  public var description: String {
    func f(_ x: Double) -> String { x.isInfinite ? (x < 0 ? "-inf" : "inf") : (x == x.rounded() && Swift.abs(x) < 1e15 ? String(Int(x)) + ".0" : String(x)) }
    if let l = low.first, let h = high.first, low.allSatisfy({ $0 == l }), high.allSatisfy({ $0 == h }) {
      return "Box(\(f(l)), \(f(h)), (\(size),))"
    }
    return "Box(low: [\(low.map(f).joined(separator: ", "))], high: [\(high.map(f).joined(separator: ", "))])"
  }
}
