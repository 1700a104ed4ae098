import Foundation
import StitchAlgorithms
import StitchData
import StitchDiffusion
import StitchEnvironments
import StitchNN

import StitchTensor

/// A learning-curve plot as a standalone SVG: normalized score against gradient step, one line per curve
/// (the mean over seeds) with a shaded band for the spread (± one standard deviation, or min–max).
///
/// SVG needs no library and opens in any browser; files are small and diff well in git.
public struct LearningCurvePlot {
  /// One labelled curve: at each step, the values of every seed.
  public struct Curve {
    public var label: String
    public var points: [(step: Double, values: [Double])]
    public init(label: String, points: [(step: Double, values: [Double])]) {
      self.label = label
      self.points = points.sorted { $0.step < $1.step }
    }
  }

  /// How the band around the mean is drawn.
  public enum Spread: String, Sendable { case standardDeviation = "± 1 std", minMax = "min–max" }

  public var title: String
  public var xLabel = "gradient steps"
  public var yLabel = "normalized score"
  public var curves: [Curve]
  public var spread: Spread = .standardDeviation
  /// Horizontal reference lines (dashed, with the value in the legend): the behaviour policy's score, another
  /// method's final score, the dataset's own score.
  public var references: [(label: String, value: Double)] = []
  public var width = 720.0
  public var height = 440.0
  /// A log₁₀ y axis (ticks at powers of ten); values ≤ 0 cannot be shown there and are left out, which the plot
  /// says in its corner.
  public var logarithmicY = false
  /// Per curve, each seed's own line (step, value), drawn thin in the curve's colour under its mean: a run's
  /// spread seed by seed (`stitch report --html`). Empty: none.
  public var seedLines: [[[(step: Double, value: Double)]]] = []

  public init(title: String, curves: [Curve]) {
    self.title = title
    self.curves = curves
  }

  static let referenceColors = ["#444444", "#999999", "#b8860b", "#6a5acd"]
  static let palette = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#17becf", "#7f7f7f"]

  /// The plot as SVG text.
  public func svg() -> String {
    let left = 70.0, right = 170.0, top = 40.0, bottom = 55.0
    let plotW = width - left - right, plotH = height - top - bottom
    let all = curves.flatMap { $0.points }
    let xs = all.map(\.step)
    var bands = curves.map { band(of: $0) }
    var references = self.references
    var hidden = 0
    if logarithmicY {
      func lg(_ v: Double) -> Double { v > 0 ? Foundation.log10(v) : -.infinity }
      bands = bands.map { b in
        b.compactMap { p in
          guard p.mean > 0 else { hidden += 1; return nil }
          return (p.step, lg(p.mean), p.low > 0 ? lg(p.low) : lg(p.mean), lg(p.high))
        }
      }
      references = references.map { ($0.label, lg($0.value)) }
    }
    let ys = (bands.flatMap { $0.flatMap { [$0.low, $0.high] } } + references.map(\.value)).filter(\.isFinite)
    var (xMin, xMax) = (xs.min() ?? 0, xs.max() ?? 1)
    var (yMin, yMax) = (ys.min() ?? 0, ys.max() ?? 1)
    if xMax <= xMin { xMax = xMin + 1 }
    if yMax <= yMin { yMin -= 1; yMax += 1 }
    if logarithmicY { yMin = Foundation.floor(yMin); yMax = Swift.max(Foundation.ceil(yMax), yMin + 1) }
    let xTicks = Self.niceTicks(xMin, xMax)
    let yTicks = logarithmicY ? stride(from: yMin, through: yMax, by: Swift.max(1, Foundation.ceil((yMax - yMin) / 8))).map { $0 } : Self.niceTicks(yMin, yMax)
    xMin = min(xMin, xTicks.first!); xMax = max(xMax, xTicks.last!)
    yMin = min(yMin, yTicks.first!); yMax = max(yMax, yTicks.last!)
    func px(_ x: Double) -> Double { left + (x - xMin) / (xMax - xMin) * plotW }
    func py(_ y: Double) -> Double { top + (1 - (y - yMin) / (yMax - yMin)) * plotH }

    var s = """
      <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(width))" height="\(Int(height))" viewBox="0 0 \(Int(width)) \(Int(height))" font-family="sans-serif" font-size="12">
      <rect width="100%" height="100%" fill="white"/>
      <text x="\(left + plotW / 2)" y="22" text-anchor="middle" font-size="15">\(Self.escape(title))</text>

      """
    for t in yTicks {
      s += "<line x1=\"\(left)\" y1=\"\(f(py(t)))\" x2=\"\(left + plotW)\" y2=\"\(f(py(t)))\" stroke=\"#e5e5e5\"/>"
      s += "<text x=\"\(left - 6)\" y=\"\(f(py(t) + 4))\" text-anchor=\"end\">\(logarithmicY ? "1e\(Int(t))" : Self.label(t))</text>\n"
    }
    for t in xTicks {
      s += "<line x1=\"\(f(px(t)))\" y1=\"\(top + plotH)\" x2=\"\(f(px(t)))\" y2=\"\(top + plotH + 5)\" stroke=\"black\"/>"
      s += "<text x=\"\(f(px(t)))\" y=\"\(top + plotH + 19)\" text-anchor=\"middle\">\(Self.label(t))</text>\n"
    }
    s += "<rect x=\"\(left)\" y=\"\(top)\" width=\"\(plotW)\" height=\"\(plotH)\" fill=\"none\" stroke=\"black\"/>\n"
    s += "<text x=\"\(left + plotW / 2)\" y=\"\(height - 12)\" text-anchor=\"middle\">\(Self.escape(xLabel))</text>\n"
    s += "<text transform=\"translate(18 \(top + plotH / 2)) rotate(-90)\" text-anchor=\"middle\">\(Self.escape(yLabel))</text>\n"
    for (i, curve) in curves.enumerated() {
      let color = Self.palette[i % Self.palette.count]
      let b = bands[i]
      guard !b.isEmpty else { continue }
      let upper = b.map { "\(f(px($0.step))),\(f(py($0.high)))" }
      let lower = b.reversed().map { "\(f(px($0.step))),\(f(py($0.low)))" }
      s += "<polygon points=\"\((upper + lower).joined(separator: " "))\" fill=\"\(color)\" fill-opacity=\"0.18\" stroke=\"none\"/>\n"
      if i < seedLines.count, !logarithmicY {
        for line in seedLines[i] where line.count > 1 {
          let points = line.filter { $0.value.isFinite }.map { "\(f(px($0.step))),\(f(py($0.value)))" }
          s += "<polyline points=\"\(points.joined(separator: " "))\" fill=\"none\" stroke=\"\(color)\" stroke-width=\"0.8\" stroke-opacity=\"0.6\"/>\n"
        }
      }
      s += "<polyline points=\"\(b.map { "\(f(px($0.step))),\(f(py($0.mean)))" }.joined(separator: " "))\" fill=\"none\" stroke=\"\(color)\" stroke-width=\"2\"/>\n"
      let ly = top + 14 + Double(i) * 18
      s += "<line x1=\"\(left + plotW + 12)\" y1=\"\(ly - 4)\" x2=\"\(left + plotW + 32)\" y2=\"\(ly - 4)\" stroke=\"\(color)\" stroke-width=\"3\"/>"
      s += "<text x=\"\(left + plotW + 37)\" y=\"\(ly)\">\(Self.escape(curve.label))</text>\n"
    }
    for (j, reference) in references.enumerated() where reference.value.isFinite {
      let color = Self.referenceColors[j % Self.referenceColors.count]
      let y = f(py(reference.value))
      s += "<line x1=\"\(left)\" y1=\"\(y)\" x2=\"\(left + plotW)\" y2=\"\(y)\" stroke=\"\(color)\" stroke-width=\"1.5\" stroke-dasharray=\"6 4\"/>"
      let ly = top + 14 + Double(curves.count + j) * 18
      s += "<line x1=\"\(left + plotW + 12)\" y1=\"\(ly - 4)\" x2=\"\(left + plotW + 32)\" y2=\"\(ly - 4)\" stroke=\"\(color)\" stroke-width=\"1.5\" stroke-dasharray=\"6 4\"/>"
      let shown = logarithmicY ? Foundation.pow(10, reference.value) : reference.value
      s += "<text x=\"\(left + plotW + 37)\" y=\"\(ly)\">\(Self.escape(reference.label)) \(Self.label(shown))</text>\n"
    }
    let seeds = curves.map { $0.points.map(\.values.count).max() ?? 0 }.max() ?? 0
    s += "<text x=\"\(left + plotW + 12)\" y=\"\(top + plotH)\" fill=\"#555\">band: \(spread.rawValue)</text>\n"
    s += "<text x=\"\(left + plotW + 12)\" y=\"\(top + plotH - 16)\" fill=\"#555\">seeds: \(seeds)</text>\n"
    if hidden > 0 { s += "<text x=\"\(left + plotW + 12)\" y=\"\(top + plotH - 32)\" fill=\"#555\">\(hidden) points ≤ 0 not shown</text>\n" }
    s += "</svg>\n"
    return s
  }

  /// Mean and band at each step of a curve (non-finite values are left out).
  func band(of curve: Curve) -> [(step: Double, mean: Double, low: Double, high: Double)] {
    curve.points.compactMap { point in
      let v = point.values.filter(\.isFinite)
      guard !v.isEmpty else { return nil }
      let mean = v.reduce(0, +) / Double(v.count)
      switch spread {
      case .minMax: return (point.step, mean, v.min()!, v.max()!)
      case .standardDeviation:
        let sd = v.count > 1 ? (v.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(v.count - 1)).squareRoot() : 0
        return (point.step, mean, mean - sd, mean + sd)
      }
    }
  }

  /// Round tick values (1, 2, 5 × 10^k) covering [lo, hi] with about five intervals.
  static func niceTicks(_ lo: Double, _ hi: Double) -> [Double] {
    let raw = (hi - lo) / 5
    let magnitude = pow(10, floor(log10(raw)))
    let step = [1.0, 2, 5, 10].map { $0 * magnitude }.first { $0 >= raw } ?? 10 * magnitude
    let first = floor(lo / step) * step
    return stride(from: first, through: ceil(hi / step) * step + step * 1e-9, by: step).map { $0 }
  }

  static func label(_ x: Double) -> String {
    if abs(x) >= 1_000_000, x.truncatingRemainder(dividingBy: 1_000_000) == 0 { return "\(Int(x / 1_000_000))M" }
    if abs(x) >= 1000, x.truncatingRemainder(dividingBy: 1000) == 0 { return "\(Int(x / 1000))k" }
    if x == x.rounded() { return String(Int(x)) }
    return String(format: "%.3g", x)
  }

  static func escape(_ s: String) -> String {
    s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
  }

  private func f(_ x: Double) -> String { String(format: "%.1f", x) }
}
