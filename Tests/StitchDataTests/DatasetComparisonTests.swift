import Foundation
import Testing
@testable import StitchData

/// `DatasetComparison` (issue 22) against closed-form answers on datasets built by hand.
@Suite struct DatasetComparisonTests {
  /// A reference for a 2-wide task with given observation moments and returns.
  func reference(mean: [Double], std: [Double], returnMean: Double? = 10, returnStd: Double? = 2) -> D4RLReference {
    D4RLReference(name: "toy-medium-v2", family: "toy", observationDim: 2, transitions: 40, episodes: 4,
                  returnMean: returnMean, returnStd: returnStd, returnMin: nil, returnMax: nil,
                  observationMean: mean, observationStd: std, source: "test")
  }

  /// Episodes given as (length, terminal at its end, reward per step, observation of every row).
  func dataset(_ episodes: [(length: Int, terminal: Bool, timeout: Bool, reward: Float, obs: [Float])]) -> Dataset {
    var ds = Dataset(observationDim: 2, actionDim: 1)
    for e in episodes {
      for t in 0..<e.length {
        let last = t == e.length - 1
        ds.append(observation: e.obs, action: [0], reward: e.reward, nextObservation: e.obs, terminal: last && e.terminal, timeout: last && e.timeout)
      }
    }
    return ds
  }

  /// Only complete episodes count: one ending in a termination, one reaching the time limit; a trailing short
  /// timeout (the file's size cut it) and an unfinished tail are left out, with their rows reported.
  @Test func onlyCompleteEpisodesCount() throws {
    let ds = dataset([(3, true, false, 2, [1, 0]), (5, false, true, 1, [3, 0]), (2, false, true, 7, [100, 100]), (1, false, false, 9, [100, 100])])
    let c = try DatasetComparison(ds, reference: reference(mean: [2, 0], std: [1, 1]), timeLimit: 5)
    #expect(c.episodes == 2 && c.transitions == 8 && c.leftOutTransitions == 3 && c.terminations == 1)
    #expect(c.meanEpisodeLength == 4)
    // Returns 6 and 5: mean 5.5, population std 0.5.
    #expect(abs(c.returnMean - 5.5) < 1e-12 && abs(c.returnStd - 0.5) < 1e-12 && c.returnMin == 5 && c.returnMax == 6)
    // Observation column 0 over the 8 kept rows: three 1s and five 3s: mean 2.25, var = (3·1.5625 + 5·0.5625)/8.
    let m = 2.25, v = (3 * 1.5625 + 5 * 0.5625) / 8
    #expect(abs(c.dimensions[0].mean - m) < 1e-12 && abs(c.dimensions[0].std - v.squareRoot()) < 1e-12)
    #expect(c.dimensions[1].mean == 0 && c.dimensions[1].std == 0)
  }

  /// The distance is the standardized 2-Wasserstein distance of the normal fits: zero for equal moments, one for a
  /// one-std shift of every mean, and the root mean square over dimensions; the summary weighs observations and
  /// returns alike.
  @Test func distanceIsTheStandardizedWassersteinOfNormalFits() throws {
    // Two complete episodes of 4 rows: column 0 alternates episodes of 1s and 3s (mean 2, std 1), column 1 is 5.
    let ds = dataset([(4, true, false, 2, [1, 5]), (4, true, false, 3, [3, 5])])  // returns 8, 12: mean 10, std 2
    let same = try DatasetComparison(ds, reference: reference(mean: [2, 5], std: [1, 0.5]))
    #expect(abs(same.dimensions[0].distance) < 1e-12)
    // Column 1 has std 0 against 0.5: ratio 0, distance |0 − 1| = 1; RMS over two dimensions = √(1/2).
    #expect(abs(same.observationDistance! - (0.5).squareRoot()) < 1e-12)
    #expect(abs(same.returnDistance!) < 1e-12)
    #expect(abs(same.distance - (0.25).squareRoot()) < 1e-12)  // √((½ + 0)/2)

    let shifted = try DatasetComparison(ds, reference: reference(mean: [1, 4.5], std: [1, 0.5], returnMean: 4, returnStd: 4))
    // Column 0: shift +1, ratio 1 → 1; column 1: shift +1, ratio 0 → √2; RMS = √((1 + 2)/2).
    #expect(abs(shifted.dimensions[0].shift - 1) < 1e-12 && abs(shifted.dimensions[1].distance - (2.0).squareRoot()) < 1e-12)
    #expect(abs(shifted.observationDistance! - (1.5).squareRoot()) < 1e-12)
    // Returns: shift (10 − 4)/4 = 1.5, ratio 2/4 = 0.5 → √(2.25 + 0.25).
    #expect(abs(shifted.returnDistance! - (2.5).squareRoot()) < 1e-12)
    #expect(abs(shifted.distance - ((1.5 + 2.5) / 2).squareRoot()) < 1e-12)
    let rows = Dictionary(uniqueKeysWithValues: shifted.rows.map { ($0.name, $0) })
    #expect(rows["return_mean"]!.shift! == 1.5 && rows["return_std"]!.stdRatio! == 0.5 && rows["episodes"]!.reference == 4)

    // A reference with returns only (expert-v2) gives the return distance as the summary.
    let returnsOnly = try DatasetComparison(ds, reference: D4RLReference(
      name: "toy-expert-v2", family: "toy", observationDim: 2, transitions: nil, episodes: nil, returnMean: 12, returnStd: 2,
      returnMin: nil, returnMax: nil, observationMean: nil, observationStd: nil, source: "test"))
    #expect(returnsOnly.observationDistance == nil && abs(returnsOnly.distance - 1) < 1e-12)
  }

  @Test func otherWidthsAndNoCompleteEpisodeAreOneLineErrors() throws {
    let ds = dataset([(4, true, false, 2, [1, 5])])
    let hopper = try D4RLReference.named("d4rl:hopper-medium-v2")
    do { _ = try DatasetComparison(ds, reference: hopper, label: "x.hdf5"); Issue.record("no error") } catch {
      #expect("\(error)" == "x.hdf5 has 2-wide observations; d4rl:hopper-medium-v2 has 11", "\(error)")
    }
    let unfinished = dataset([(4, false, false, 2, [1, 5])])
    #expect(throws: DatasetComparison.CompareError.self) { _ = try DatasetComparison(unfinished, reference: reference(mean: [0, 0], std: [1, 1])) }
    do { _ = try D4RLReference.named("d4rl:hopper-medum-v2"); Issue.record("no error") } catch {
      #expect("\(error)".hasPrefix("unknown reference 'd4rl:hopper-medum-v2'; known: d4rl:hopper-medium-v2, "), "\(error)")
    }
  }

  /// The table is whole: every reference has the task's widths, positive stds and at least one of the two
  /// statistics the distance uses; the nine locomotion datasets all have observation moments.
  @Test func referenceTableIsWhole() throws {
    #expect(D4RLReference.all.count == 12)
    for r in D4RLReference.all {
      #expect(r.observationMean != nil || r.returnMean != nil, "\(r.name)")
      if let m = r.observationMean, let s = r.observationStd {
        #expect(m.count == r.observationDim && s.count == r.observationDim && s.allSatisfy { $0 > 0 }, "\(r.name)")
      }
      if let s = r.returnStd { #expect(s > 0 && r.returnMean != nil, "\(r.name)") }
      #expect(r.observationDim == (r.family == "hopper" ? 11 : 17))
    }
    for family in ["hopper", "walker2d", "halfcheetah"] {
      for kind in ["medium", "medium-replay", "medium-expert"] {
        #expect(try D4RLReference.named("\(family)-\(kind)-v2").observationMean != nil)
      }
    }
    // hopper-medium-v2: 999,906 transitions in 2,186 complete episodes (docs/d4rl-stats.md).
    #expect(abs(try D4RLReference.named("hopper-medium-v2").meanEpisodeLength! - 457.413) < 1e-3)
  }
}

/// Kendall's τ against hand-counted pairs.
@Suite struct KendallTauTests {
  @Test func countsConcordantAndDiscordantPairs() {
    #expect(KendallTau([1, 2, 3, 4], [10, 20, 30, 40]).tau == 1)
    #expect(KendallTau([1, 2, 3, 4], [4, 3, 2, 1]).tau == -1)
    // CORL hopper-medium-v2 (ReBRAC 102.3, IQL 67.5, TD3+BC 60.4, CQL 59.1, BC 53.5) against Stitch's first
    // hopper-medium (24.4, 35.7, 48.9, 44.0, 46.1): of 10 pairs, 2 concordant (TD3+BC > CQL, TD3+BC > BC), 8 discordant.
    let t = KendallTau([24.4, 35.7, 48.9, 44.0, 46.1], [102.3, 67.5, 60.4, 59.1, 53.5])
    #expect(t.concordant == 2 && t.discordant == 8 && abs(t.tau - (-0.6)) < 1e-12)
    // A tie in one scoring: τ-b = (C − D) / √((C + D + T_a)(C + D + T_b)) = (2 − 0) / √(3 · 2).
    let tied = KendallTau([1, 1, 2], [1, 2, 3])
    #expect(tied.concordant == 2 && abs(tied.tau - 2 / (6.0).squareRoot()) < 1e-12)
  }
}
