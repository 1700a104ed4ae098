import StitchTensor

/// A minibatch of transitions in preallocated tensors: observations [B, obs], actions [B, act], rewards [B, 1],
/// nextObservations [B, obs], terminals [B, 1] (1 where the transition terminated, else 0), and nextActions
/// [B, act]: the dataset's action at the next row of the same episode (ReBRAC's critic penalty needs it; at an
/// episode's last row, where no next action exists, the row's own action is used, which the terminal mask or the
/// dropped timeout makes irrelevant for terminations).
///
/// Samplers overwrite these tensors in place (no allocation per batch while the tensors are uniquely held).
public struct Batch: Sendable {
  public var observations: Tensor
  public var actions: Tensor
  public var rewards: Tensor
  public var nextObservations: Tensor
  public var terminals: Tensor
  public var nextActions: Tensor

  public init(size: Int, observationDim: Int, actionDim: Int) {
    observations = Tensor.zeros([size, observationDim])
    actions = Tensor.zeros([size, actionDim])
    rewards = Tensor.zeros([size, 1])
    nextObservations = Tensor.zeros([size, observationDim])
    terminals = Tensor.zeros([size, 1])
    nextActions = Tensor.zeros([size, actionDim])
  }

  public var size: Int { rewards.shape[0] }

  /// Fills row `row` from transition `i` of the given columns.
  @inline(__always)
  static func fill(row: Int, from i: Int, _ o: UnsafeBufferPointer<Float>, _ a: UnsafeBufferPointer<Float>, _ r: UnsafeBufferPointer<Float>,
                     _ n: UnsafeBufferPointer<Float>, _ t: UnsafeBufferPointer<Bool>, od: Int, ad: Int,
                     _ po: UnsafeMutableBufferPointer<Float>, _ pa: UnsafeMutableBufferPointer<Float>, _ pr: UnsafeMutableBufferPointer<Float>,
                     _ pn: UnsafeMutableBufferPointer<Float>, _ pt: UnsafeMutableBufferPointer<Float>) {
    for j in 0..<od { po[row * od + j] = o[i * od + j]; pn[row * od + j] = n[i * od + j] }
    for j in 0..<ad { pa[row * ad + j] = a[i * ad + j] }
    pr[row] = r[i]
    pt[row] = t[i] ? 1 : 0
  }
}
