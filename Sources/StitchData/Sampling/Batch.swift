import StitchTensor

/// A minibatch of transitions in preallocated tensors: observations [B, obs], actions [B, act], rewards [B, 1],
/// nextObservations [B, obs], terminals [B, 1] (1 where the transition terminated, else 0), and nextActions
/// [B, act]: the action the data took at each row's next observation (ReBRAC's critic penalty needs it), with
/// nextActionsKnown [B, 1] saying where it is one: 1 where the dataset holds that action (the next row of the
/// same episode, or `Dataset.nextActions`), 0 where it holds none — a terminal row (the target's (1 − d) mask
/// removes it anyway), the last row of a cut episode whose next row was not kept, every synthetic row (a SynthER
/// sample is one transition without a successor) — and the row's own action stands in for it. A user of
/// nextActions multiplies its term by nextActionsKnown (or refuses data without it) rather than take the stand-in.
///
/// Samplers overwrite these tensors in place (no allocation per batch while the tensors are uniquely held).
public struct Batch: Sendable {
  public var observations: Tensor
  public var actions: Tensor
  public var rewards: Tensor
  public var nextObservations: Tensor
  public var terminals: Tensor
  public var nextActions: Tensor
  /// 1 where `nextActions` holds the data's action at the row's next observation, 0 where it is a stand-in.
  public var nextActionsKnown: Tensor
  /// [B, 1]: each row's Monte-Carlo return-to-go (`Dataset.returnsToGo`), 0 where its source has none.
  public var returnsToGo: Tensor
  /// Written by samplers so that their cache-warming loads are not optimised away; meaningless.
  var scratch: Float = 0

  public init(size: Int, observationDim: Int, actionDim: Int) {
    observations = Tensor.zeros([size, observationDim])
    actions = Tensor.zeros([size, actionDim])
    rewards = Tensor.zeros([size, 1])
    nextObservations = Tensor.zeros([size, observationDim])
    terminals = Tensor.zeros([size, 1])
    nextActions = Tensor.zeros([size, actionDim])
    nextActionsKnown = Tensor.zeros([size, 1])
    returnsToGo = Tensor.zeros([size, 1])
  }

  public var size: Int { rewards.shape[0] }
}
