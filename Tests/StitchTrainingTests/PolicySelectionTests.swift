import Foundation
import StitchData
import StitchEnvironments
import Testing
@testable import StitchTraining

/// Choosing behaviour policies by the distance of their data to D4RL's (issue 22).
@Suite struct PolicySelectionTests {
  /// Two snapshots in a run-like folder: the bundled hopper medium and expert policies, at steps 70k and 500k.
  func snapshotFolder() throws -> URL {
    let root = FileManager.default.temporaryDirectory.appendingPathComponent("stitch-select-\(UUID().uuidString)")
    let snaps = root.appendingPathComponent("seed_0/snapshots")
    try FileManager.default.createDirectory(at: snaps, withIntermediateDirectories: true)
    for (name, step) in [("hopper-medium", 70_000), ("hopper-expert", 500_000)] {
      let p = try BehaviourPolicy.bundled(name)
      try BehaviourPolicy.save(actor: p.actor, task: p.task, kind: "snapshot", scaling: p.scaling,
                               metadata: ["step": String(step), "eval_return": "0", "seed": "0"],
                               to: snaps.appendingPathComponent("step_\(step).safetensors"))
    }
    return root
  }

  /// Against expert-v2's returns (3511 ± 329) the expert snapshot is closer; against medium-v2 the medium one:
  /// the choice follows the reference, not the return.
  @Test func theClosestSnapshotDependsOnTheReference() throws {
    let root = try snapshotFolder()
    defer { try? FileManager.default.removeItem(at: root) }
    let urls = try PolicySelection.snapshots(at: root)
    #expect(urls.map(\.lastPathComponent) == ["step_70000.safetensors", "step_500000.safetensors"])
    let expert = try PolicySelection.evaluateAll(urls, reference: try D4RLReference.named("hopper-expert-v2"), transitions: 4000, seed: 0, concurrency: 2)
    #expect(PolicySelection.best(expert)?.step == 500_000, "\(expert.map { ($0.step!, $0.comparison.distance) })")
    let medium = try PolicySelection.evaluateAll(urls, reference: try D4RLReference.named("hopper-medium-v2"), transitions: 4000, seed: 0, concurrency: 1)
    #expect(PolicySelection.best(medium)?.step == 70_000, "\(medium.map { ($0.step!, $0.comparison.distance) })")
    // The rollout is the one `dataset make` does: same policy, size and seed, same data, so the same comparison.
    let made = try DatasetMaker.make("hopper-medium", size: 4000, seed: 0)
    let direct = try DatasetComparison(made, reference: try D4RLReference.named("hopper-medium-v2"))
    #expect(direct.distance == medium[0].comparison.distance && direct.returnMean == medium[0].comparison.returnMean)
  }

  /// A seed fixes the result whatever the concurrency; another seed gives other rollouts.
  @Test func concurrencyDoesNotChangeTheResult() throws {
    let root = try snapshotFolder()
    defer { try? FileManager.default.removeItem(at: root) }
    let urls = try PolicySelection.snapshots(at: root.appendingPathComponent("seed_0"))
    let ref = try D4RLReference.named("hopper-medium-v2")
    let a = try PolicySelection.evaluateAll(urls, reference: ref, transitions: 2000, seed: 3, concurrency: 1)
    let b = try PolicySelection.evaluateAll(urls, reference: ref, transitions: 2000, seed: 3, concurrency: 2)
    let c = try PolicySelection.evaluateAll(urls, reference: ref, transitions: 2000, seed: 4, concurrency: 2)
    #expect(a.map(\.comparison.distance) == b.map(\.comparison.distance))
    #expect(a.map(\.comparison.distance) != c.map(\.comparison.distance))
  }

  @Test func wrongTaskAndEmptyFoldersAreRefused() throws {
    let root = try snapshotFolder()
    defer { try? FileManager.default.removeItem(at: root) }
    let urls = try PolicySelection.snapshots(at: root)
    do { _ = try PolicySelection.evaluate(urls[0], reference: try D4RLReference.named("walker2d-medium-v2"), transitions: 100, seed: 0); Issue.record("no error") } catch {
      #expect("\(error)".contains("acts in Hopper-v4; d4rl:walker2d-medium-v2 is a walker2d dataset"), "\(error)")
    }
    let empty = root.appendingPathComponent("empty")
    try FileManager.default.createDirectory(at: empty, withIntermediateDirectories: true)
    #expect(throws: PolicySelection.SelectionError.self) { _ = try PolicySelection.snapshots(at: empty) }
  }

  /// "-vN" names an earlier policy generation; the kind parses through it.
  @Test func versionedDatasetNames() throws {
    #expect(DatasetMaker.splitVersion("hopper-medium-v1") == ("hopper-medium", 1))
    #expect(DatasetMaker.splitVersion("hopper-medium") == ("hopper-medium", nil))
    #expect(DatasetMaker.splitVersion("hopper-medium-vx") == ("hopper-medium-vx", nil))
    #expect(try DatasetMaker.parse("hopper-medium-expert-v1") == ("hopper", "medium-expert"))
    // Generation 1 of a policy never replaced is the current file; a generation that does not exist is refused.
    func weights(_ p: BehaviourPolicy) -> [[Float]] { var a = p.actor, out: [[Float]] = []; a.visitParameters("") { _, t in out.append(t.scalars) }; return out }
    let v1 = try DatasetMaker.bundledPolicy("pendulum-medium-v1", family: "pendulum", kind: "medium")
    #expect(weights(v1) == weights(try BehaviourPolicy.bundled("pendulum-medium")))
    #expect(weights(v1) != weights(try BehaviourPolicy.bundled("pendulum-expert")))
    #expect(throws: DatasetMaker.MakeError.self) { _ = try DatasetMaker.bundledPolicy("pendulum-medium-v7", family: "pendulum", kind: "medium") }
  }
}
