/// Kendall's rank correlation τ between two scorings of the same items (Kendall 1938): (concordant − discordant)
/// pairs over all pairs, τ-b's correction for ties in either scoring (Kendall 1945) — 1 for the same order, −1 for
/// the reverse. Used to state whether Stitch's ranking of algorithms on a dataset is the paper's (issue 22).
public struct KendallTau: Sendable, Equatable {
  public var tau: Double
  public var concordant: Int
  public var discordant: Int
  public var pairs: Int

  /// τ-b of `a` against `b` (equal lengths, at least two items; NaN when either scoring is constant).
  public init(_ a: [Double], _ b: [Double]) {
    precondition(a.count == b.count && a.count >= 2, "Kendall's τ needs two scorings of the same two or more items")
    var c = 0, d = 0, tiesA = 0, tiesB = 0
    for i in 0..<a.count {
      for j in (i + 1)..<a.count {
        let x = a[i] - a[j], y = b[i] - b[j]
        if x == 0 && y == 0 { continue }
        if x == 0 { tiesA += 1; continue }
        if y == 0 { tiesB += 1; continue }
        if (x > 0) == (y > 0) { c += 1 } else { d += 1 }
      }
    }
    concordant = c
    discordant = d
    pairs = a.count * (a.count - 1) / 2
    let denominator = (Double(c + d + tiesA) * Double(c + d + tiesB)).squareRoot()
    tau = denominator > 0 ? Double(c - d) / denominator : .nan
  }
}
