import StitchData
import StitchNN

import StitchTensor

/// Cal-QL: calibrated CQL for offline pretraining that fine-tunes without unlearning (Nakamoto, Zhai, Singh,
/// Sobol Mark, Ma, Finn, Kumar & Levine, "Cal-QL: Calibrated Offline RL Pre-Training for Efficient Online
/// Fine-Tuning", NeurIPS 2023, arXiv 2303.05479, eq. 5): CQL whose push-down term is applied to
/// max(Q(s, a), V^μ(s)) for the policy's actions, V^μ estimated by the Monte-Carlo discounted return-to-go of the
/// row's trajectory in the data. As CORL writes it (`algorithms/finetune/cal_ql.py`, `_q_loss` and
/// `get_return_to_go`): the bound max(Q, G) applies to the Q-values of the N policy actions at s and of the N at
/// s' (both evaluated at s) before their density corrections; G is computed per episode from the rewards as the
/// critic sees them (after `--normalize-rewards`), discounted with the critic's γ, without bootstrapping past the
/// data. Everything else is `CQL` with its defaults (CORL's locomotion CQL; CORL has no locomotion Cal-QL configs,
/// its antmaze/adroit values are in FACTS-2.md §2d).
///
/// Online (`stitch finetune`): by default the calibration stays on and each online episode's rows get their
/// returns-to-go when it ends (rows of the episode in progress are not bounded), as the paper's code; with
/// `--set calibrate_online=false` it is switched off at the first online step and online rows carry 0, as CORL's
/// `switch_calibration()`. Differences from CORL: its sparse-reward special case (a constant return r/(1 − γ) for
/// episodes of minimum reward, antmaze) is not implemented.
public struct CalQL: Algorithm, AlgorithmState, PhaseObserver {
  public typealias Configuration = CQL.Configuration

  public static let id = "calql"
  public static let summary = "Cal-QL (Nakamoto et al. 2023): CQL with policy Q-values bounded below by Monte-Carlo returns-to-go"
  public static var defaultConfiguration: Configuration {
    var c = CQL.defaultConfiguration
    c.calibrated = true
    return c
  }

  var core: CQL

  public init(configuration: Configuration, task: TaskSpec, rng: RandomStream) {
    core = CQL(configuration: configuration, task: task, rng: rng)
  }

  public mutating func update(on batch: Batch) throws -> Metrics { try core.update(on: batch) }
  public func act(_ observations: Tensor, exploring: Bool, rng: inout RandomStream) -> Tensor { core.act(observations, exploring: exploring, rng: &rng) }
  public mutating func phaseChanged(online: Bool) { core.phaseChanged(online: online) }
  public mutating func visitState<V: StateVisitor>(_ v: inout V) throws(V.Failure) { try core.visitState(&v) }
}
