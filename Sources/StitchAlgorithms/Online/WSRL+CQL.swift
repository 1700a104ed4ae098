import Foundation
import StitchData
import StitchNN

import StitchTensor

/// WSRL's offline phase: its CQL (`wsrl/agents/cql.py` over `agents/sac.py`, configured by `cql_config.py`,
/// `train_config.py:locomotion_cql` and `--use_redq`), on the networks WSRL fine-tunes. One update is one
/// `apply_loss_fns` call on all three networks, every loss from the parameters before the step:
///
/// 1. critic: the TD loss with `cql_max_target_backup` (N next actions a′ₖ ~ π(s′), y = r + γ·m·maxₖ
///    min_{j∈S} Q′ⱼ(s′, a′ₖ), S two target critics drawn with replacement; no entropy backup), mean over all
///    critics and rows; plus α·mean over a second draw S′ of two critics of
///    `logsumexp`(Q(s, a_rand) − log 0.5^|A|, Q(s, a_π(s)) − log π, Q(s, a_π(s′)) − log π′) − Q(s, a) (CQL(H) with
///    importance sampling, Kumar et al. 2020 eq. 4 and appendix F; `_get_cql_q_diff`), N actions of each kind;
/// 2. actor: E[λ·log π(a|s) − minᵢ Qᵢ(s, a)] over all critics;
/// 3. temperature: λ·(H − H̄), H from N samples at s′ (CQL's `_compute_next_actions`);
///
/// then the three Adam steps and one Polyak step.
extension WSRL {
  /// The random numbers of one offline update in the order they are drawn: the TD target's next actions
  /// [B·N, |A|] and critics, the CQL term's uniform actions in [−1, 1], its normals at s and at s′ (each
  /// [B·N, |A|]) and critics, the actor's normal [B, |A|] and the temperature loss's [B·N, |A|] (N = 1 without the
  /// max backup, for the TD target and the temperature).
  struct OfflineDraws {
    var next: Tensor
    var subset: [Int]
    var random: Tensor
    var current: Tensor
    var nextProposals: Tensor
    var conservativeSubset: [Int]
    var actor: Tensor
    var temperature: Tensor
  }

  var backupSamples: Int { config.maxTargetBackup ? config.sampledActions : 1 }

  mutating func offlineUpdate(on batch: Batch) throws -> Metrics {
    let rows = batch.size, ad = batch.actions.shape[1], n = config.sampledActions
    let next = Tensor.normal([rows * backupSamples, ad], using: &noise)
    let subset = Self.subset(of: config.critics, size: config.targetCritics, using: &noise)
    let random = Tensor.uniform([rows * n, ad], in: -1...1, using: &noise)
    let current = Tensor.normal([rows * n, ad], using: &noise)
    let nextProposals = Tensor.normal([rows * n, ad], using: &noise)
    let conservativeSubset = Self.subset(of: config.critics, size: config.targetCritics, using: &noise)
    let actorNoise = Tensor.normal([rows, ad], using: &noise)
    let temperatureNoise = Tensor.normal([rows * backupSamples, ad], using: &noise)
    return try offlineUpdate(on: batch, draws: OfflineDraws(next: next, subset: subset, random: random, current: current, nextProposals: nextProposals,
                                                           conservativeSubset: conservativeSubset, actor: actorNoise, temperature: temperatureNoise))
  }

  /// Row i·n + k is row i of `t`, for k < n.
  static func repeatRows(_ t: Tensor, _ n: Int) -> Tensor {
    n == 1 ? t : t.gathering(rows: (0..<t.shape[0]).flatMap { Array(repeating: $0, count: n) })
  }

  mutating func offlineUpdate(on batch: Batch, draws: OfflineDraws) throws -> Metrics {
    let rows = batch.size, ad = batch.actions.shape[1], n = config.sampledActions, k = backupSamples
    // The TD target (no gradient): max over the k next actions of the min over the subset's target critics.
    let (nextActions, _) = Self.samples(actor, batch.nextObservations, n: k, noise: draws.next)
    let nextQ = Self.q(targetCritics.selecting(members: draws.subset), Self.repeatRows(batch.nextObservations, k), nextActions)
      .min(axis: 0).reshaped([rows, k]).max(axis: 1)
    let targets = (batch.rewards.reshaped([1, rows]) + (1 - batch.terminals.reshaped([1, rows])) * nextQ.reshaped([1, rows]) * config.discount).detached()
    // The proposals and their log densities (no gradient: `forward_policy_and_sample` uses the current parameters).
    let (currentActions, currentLogProbs) = Self.samples(actor, batch.observations, n: n, noise: draws.current)
    let (nextProposals, nextLogProbs) = Self.samples(actor, batch.nextObservations, n: n, noise: draws.nextProposals)
    let states = Self.repeatRows(batch.observations, n)
    let randomDensity = Float(Double(ad) * Foundation.log(0.5))
    let densities: [Tensor] = [Tensor.zeros([rows, n]) + randomDensity, currentLogProbs.reshaped([rows, n]), nextLogProbs.reshaped([rows, n])]
    let s = draws.conservativeSubset.count, tau = config.logsumexpTemperature
    var predicted = Tensor(0), tdLoss = Tensor(0), conservativeLoss = Tensor(0), oodValues = Tensor(0)
    let (criticLoss, criticGrad) = try valueWithGradient(at: critics) { q in
      let qa = Self.q(q, batch.observations, batch.actions)
      predicted = qa.detached()
      let td = (qa - targets).square().mean()
      let chosen = q.selecting(members: draws.conservativeSubset)
      var groups: [Tensor] = []
      for (actions, density) in zip([draws.random, currentActions, nextProposals], densities) {
        let values = Self.q(chosen, states, actions.detached()).reshaped([s, rows, n])
        groups.append(config.importanceSampling ? values - density.reshaped([1, rows, n]) : values)
      }
      let qaChosen = qa.gathering(rows: draws.conservativeSubset)
      if !config.importanceSampling { groups.append(qaChosen.reshaped([s, rows, 1])) }
      var samples = Tensor.concat(groups)
      if !config.importanceSampling { samples = samples - Float(Foundation.log(Double(3 * n + 1))) * tau }
      let ood = (samples * (1 / tau)).logSumExp(axis: 2) * tau
      let conservative = (ood - qaChosen).mean()
      tdLoss = td.detached()
      conservativeLoss = conservative.detached()
      oodValues = ood.detached().mean()
      return td + conservative * config.conservativeWeight
    }
    let (actorGrad, temperatureGrad, actorMetrics) = try actorAndTemperatureGradients(on: batch, actorNoise: draws.actor, temperatureNoise: draws.temperature, samples: k)
    criticOptimizer.update(&critics, along: criticGrad)
    actorOptimizer.update(&actor, along: actorGrad)
    temperatureOptimizer.update(&temperatureParameter, along: temperatureGrad)
    targetCritics.moveTowards(critics, rate: config.targetUpdateRate)
    var metrics = actorMetrics
    metrics["critic_loss"] = Double(criticLoss)
    metrics["td_loss"] = Double(tdLoss.scalar)
    metrics["cql_loss"] = Double(conservativeLoss.scalar)
    metrics["cql_ood_values"] = Double(oodValues.scalar)
    metrics.merge(QStatistics.of(predicted)) { $1 }
    return metrics
  }
}
