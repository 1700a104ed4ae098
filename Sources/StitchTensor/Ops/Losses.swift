/// Regression losses used by value learning. Each returns the mean over all elements (rank 0).
extension Tensor {
  /// Mean squared error mean((x − y)²).
  public static func meanSquaredError(_ prediction: Tensor, _ target: Tensor) -> Tensor {
    (prediction - target).square().mean()
  }

  /// Huber loss with threshold δ: ½d² for |d| ≤ δ, δ(|d| − ½δ) otherwise, averaged
  /// (Huber 1964; PyTorch's `HuberLoss` with `delta`).
  public static func huberLoss(_ prediction: Tensor, _ target: Tensor, delta: Float = 1) -> Tensor {
    let d = prediction - target
    let a = d.abs()
    let quadratic = Tensor.minimum(a, Tensor(delta))
    let linear = a - quadratic
    return (quadratic.square() * 0.5 + linear * delta).mean()
  }

  /// Expectile (asymmetric L2) loss |τ − 1(u < 0)|·u² with u = target − prediction, averaged
  /// (IQL: Kostrikov, Nair & Levine 2021, arXiv 2110.06169, eq. 5, L₂^τ).
  public static func expectileLoss(_ prediction: Tensor, _ target: Tensor, expectile tau: Float) -> Tensor {
    let u = target - prediction
    var weight = Tensor(uninitializedShape: u.shape)
    weight.withUnsafeMutableBufferPointer { w in u.withUnsafeBufferPointer { pu in
      for i in 0..<w.count { w[i] = pu[i] < 0 ? 1 - tau : tau }
    } }
    return (weight * u.square()).mean()
  }
}
