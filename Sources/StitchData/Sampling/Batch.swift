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
  /// Written by samplers so that their cache-warming loads are not optimised away; meaningless.
  var scratch: Float = 0

  public init(size: Int, observationDim: Int, actionDim: Int) {
    observations = Tensor.zeros([size, observationDim])
    actions = Tensor.zeros([size, actionDim])
    rewards = Tensor.zeros([size, 1])
    nextObservations = Tensor.zeros([size, observationDim])
    terminals = Tensor.zeros([size, 1])
    nextActions = Tensor.zeros([size, actionDim])
  }

  public var size: Int { rewards.shape[0] }
}
