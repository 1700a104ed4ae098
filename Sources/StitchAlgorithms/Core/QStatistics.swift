import StitchTensor

/// Summary of a critic ensemble's predictions Qᵢ(s, a) on a minibatch (`[N, B]`): `q_mean` over members and
/// rows, `q_max` the largest. The edge-of-reach experiment reads them: Q-values that grow without bound are the
/// failure it is about (Sims et al. 2024, Figure 1).
enum QStatistics {
  static func of(_ q: Tensor) -> Metrics {
    let v = q.scalars
    guard !v.isEmpty else { return [:] }
    var sum = 0.0, maximum = -Double.infinity
    for x in v { sum += Double(x); maximum = Swift.max(maximum, Double(x)) }
    return ["q_mean": sum / Double(v.count), "q_max": maximum]
  }
}
