/// Every sampler by CLI id.
public enum Samplers {
  /// The deterministic and stochastic samplers `stitch synth` and `stitch bench samplers` know.
  public static let all: [any DiffusionSampler] = [
    DDIMSampler(eta: 0), DDIMSampler(eta: 1), EDMSampler(heun: false), EDMSampler(heun: true), EDMSampler.synther,
    DPMSolverPlusPlus(.twoM), DPMSolverPlusPlus(.threeM), DPMSolverPlusPlus(.twoS),
    DEISSampler(order: 1), DEISSampler(order: 2), DEISSampler(order: 3),
    UniPCSampler(.bh1), UniPCSampler(.bh2), TimeShiftSampler(),
  ]

  public static var ids: [String] { all.map(\.id) }

  /// Every id the CLI accepts: those of `all` and those built per model from its statistics (DPM-Solver-v3).
  public static var allIDs: [String] { ids + [DPMSolverV3.cliID] }

  public static func named(_ id: String) -> (any DiffusionSampler)? { all.first { $0.id == id.lowercased() } }
}
