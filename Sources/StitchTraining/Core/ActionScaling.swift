import StitchAlgorithms
import StitchData
import StitchDiffusion
import StitchEnvironments
import StitchNN
import StitchTensor

/// Maps actions between the algorithms' normalised box [−1, 1] and an environment's action box (affine per
/// dimension). For Box(−2, 2) this is TD3's `max_action` scaling.
public struct ActionScaling: Codable, Sendable, Equatable {
  public var low: [Double]
  public var high: [Double]

  public init(low: [Double], high: [Double]) {
    self.low = low
    self.high = high
  }

  /// Environment units from [−1, 1] (clipped into the box).
  public func toEnvironment(_ a: [Float]) -> [Double] {
    a.indices.map { i in
      let x = Swift.min(Swift.max(Double(a[i]), -1), 1)
      return low[i] + (x + 1) * 0.5 * (high[i] - low[i])
    }
  }

  /// [−1, 1] from environment units.
  public func toNormalized(_ a: [Double]) -> [Float] {
    a.indices.map { i in Float(2 * (a[i] - low[i]) / (high[i] - low[i]) - 1) }
  }

  /// Normalises a dataset's actions in place (row-major, width = low.count).
  public func normalize(_ values: inout [Float]) {
    let d = low.count
    for i in 0..<values.count {
      let j = i % d
      values[i] = Float(2 * (Double(values[i]) - low[j]) / (high[j] - low[j]) - 1)
    }
  }
}
