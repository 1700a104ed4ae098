import StitchData
import StitchNN
import StitchTensor

extension Tensor {
  /// Minimum over `axis` (the gradient flows to the first minimal element), as −max(−x).
  public func min(axis: Int) -> Tensor { -((-self).max(axis: axis)) }

  /// Rows `range` of the first axis.
  public func slice(rows range: Range<Int>) -> Tensor { gathering(rows: Array(range)) }
}
