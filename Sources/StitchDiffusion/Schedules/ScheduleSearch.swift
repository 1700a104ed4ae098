import Foundation

import StitchTensor

/// Solver-schedule search: the N − 1 interior times of a deterministic sampler's step schedule, chosen to minimise
/// its error against an accurate reference solution of the same probability-flow ODE from the same starting noise.
///
/// The idea, that a few-step solver's time steps should be searched for the model at hand rather than fixed by a
/// formula, is that of USF (Liu et al., "A Unified Sampling Framework for Solver Searching of Diffusion
/// Probabilistic Models", ICLR 2024, §4: timesteps searched against a many-step reference) and of "Align Your Steps"
/// (Sabour, Fidler & Kreis, ICML 2024). Stitch's objective and optimiser are its own and deliberately small:
/// objective = RMS distance between the sampler's output and the reference over a probe batch; optimiser =
/// coordinate descent in λ = log(α/σ): every interior λᵢ in turn by golden-section search inside (λᵢ₋₁, λᵢ₊₁),
/// starting from the best of the standard spacings; a move is kept only when it lowers the objective, so the
/// result is never worse than the best standard spacing on the probe batch. Report the error on held-out noise too
/// (`heldOutError`): a schedule fitted to one batch must carry over to fresh noise to be worth using.
public struct ScheduleSearch: Sendable {
  /// The searched sampler.
  public let sampler: any DiffusionSampler
  /// Steps of the searched schedule (N; N + 1 times).
  public let steps: Int
  /// Full sweeps of coordinate descent over the interior times.
  public var sweeps = 3
  /// Objective evaluations per golden-section line search.
  public var lineSearchEvaluations = 10

  public struct Result: Sendable {
    /// The searched times (N + 1, decreasing from maxTime to minTime).
    public let times: [Double]
    /// RMS error of each standard spacing on the probe batch.
    public let spacingErrors: [(spacing: StepSpacing, error: Double)]
    /// The best standard spacing and its error (where the search started).
    public let startSpacing: StepSpacing
    public let startError: Double
    /// RMS error of the searched schedule on the probe batch.
    public let searchedError: Double
    /// Objective evaluations spent (each is one run of the sampler over the probe batch).
    public let objectiveEvaluations: Int
  }

  public enum SearchError: Error, CustomStringConvertible {
    case stochasticSampler(String)
    case badInput(String)
    public var description: String {
      switch self {
      case let .stochasticSampler(id):
        return "schedule search needs a deterministic sampler: \(id) injects noise, so its error to an ODE solution is not a function of its schedule"
      case let .badInput(why): return "schedule search: \(why)"
      }
    }
  }

  public init(sampler: any DiffusionSampler, steps: Int) {
    self.sampler = sampler
    self.steps = steps
  }

  /// RMS distance between `sampler` run over `times` from `start` and `reference`.
  public func error(times: [Double], start: [Double], reference: [Double], schedule: any NoiseSchedule, model: Denoiser) throws -> Double {
    var x = start
    var rng = RandomStream(seed: 0)
    try sampler.sample(&x, times: times, schedule: schedule, model: model, rng: &rng)
    let rms = Self.rmsDistance(x, reference)
    return rms.isFinite ? rms : .infinity
  }

  /// √(mean of (aᵢ − bᵢ)²): the distance every sampler comparison here reports.
  public static func rmsDistance(_ a: [Double], _ b: [Double]) -> Double {
    var sum = 0.0
    for i in 0..<Swift.min(a.count, b.count) { let d = a[i] - b[i]; sum += d * d }
    return (sum / Double(Swift.max(a.count, 1))).squareRoot()
  }

  /// Searches the interior times for the probe batch `start` (rows of noise at `schedule.maxTime`, flattened) whose
  /// accurate solution is `reference` (same layout).
  public func search(start: [Double], reference: [Double], schedule: any NoiseSchedule, model: Denoiser) throws -> Result {
    guard !sampler.isStochastic else { throw SearchError.stochasticSampler(sampler.id) }
    guard steps >= 2 else { throw SearchError.badInput("needs at least 2 steps (one interior time), got \(steps)") }
    guard !start.isEmpty, start.count == reference.count else {
      throw SearchError.badInput("probe batch of \(start.count) values against a reference of \(reference.count)")
    }
    var evaluations = 0
    func objective(_ times: [Double]) throws -> Double {
      evaluations += 1
      return try error(times: times, start: start, reference: reference, schedule: schedule, model: model)
    }
    var spacingErrors: [(spacing: StepSpacing, error: Double)] = []
    for spacing in StepSpacing.allCases {
      spacingErrors.append((spacing, try objective(spacing.times(steps, schedule: schedule))))
    }
    let best = spacingErrors.min { $0.error < $1.error }!
    var lambdas = best.spacing.times(steps, schedule: schedule).map { schedule.lambda($0) }
    func times(_ l: [Double]) -> [Double] {
      var t = l.map { schedule.time(lambda: $0) }
      t[0] = schedule.maxTime
      t[steps] = schedule.minTime
      return t
    }
    var current = best.error
    let golden = (5.0.squareRoot() - 1) / 2
    for _ in 0..<sweeps {
      for i in 1..<steps {
        // Keep each step at least 2% of its neighbourhood away from its neighbours (no zero-length steps).
        let gap = lambdas[i + 1] - lambdas[i - 1]
        var a = lambdas[i - 1] + 0.02 * gap, b = lambdas[i + 1] - 0.02 * gap
        var trial = lambdas
        func at(_ v: Double) throws -> Double { trial[i] = v; return try objective(times(trial)) }
        var c = b - golden * (b - a), d = a + golden * (b - a)
        var fc = try at(c), fd = try at(d)
        for _ in 2..<Swift.max(lineSearchEvaluations, 3) {
          if fc < fd { b = d; d = c; fd = fc; c = b - golden * (b - a); fc = try at(c) }
          else { a = c; c = d; fc = fd; d = a + golden * (b - a); fd = try at(d) }
        }
        let (v, f) = fc < fd ? (c, fc) : (d, fd)
        if f < current { lambdas[i] = v; current = f }
      }
    }
    return Result(times: times(lambdas), spacingErrors: spacingErrors, startSpacing: best.spacing, startError: best.error,
                  searchedError: current, objectiveEvaluations: evaluations)
  }
}
