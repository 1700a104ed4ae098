import Foundation
import StitchData
import StitchDiffusion
import StitchEnvironments
import StitchNN
import StitchTensor
import Testing
@testable import StitchAlgorithms

@testable import StitchTraining

/// Each registered algorithm's configuration: defaults in range, reference names pointing at real keys.
private struct ConfigurationAudit: AlgorithmVisitor {
  struct Finding {
    var id: String; var problems: [String]; var keys: Set<String>; var references: [String: String]; var formerKeys: [String: String]
  }
  func visit<A: Algorithm>(_ type: A.Type) throws -> Finding {
    var checks = ConfigChecks()
    let checked = A.defaultConfiguration as? any CheckedConfiguration
    checked?.check(&checks)
    let keys = Set(try ConfigResolver.entries(of: A.defaultConfiguration).map(\.key))
    let references = (A.Configuration.self as? any CheckedConfiguration.Type)?.referenceNames ?? [:]
    let former = (A.Configuration.self as? any CheckedConfiguration.Type)?.formerKeys ?? [:]
    return Finding(id: A.id, problems: checked == nil ? ["not a CheckedConfiguration"] : checks.problems, keys: keys,
                   references: references, formerKeys: former)
  }
}

@Suite struct ConfigChecksTests {
  /// Every algorithm declares ranges, its paper defaults lie inside them, and every CORL name it maps leads to
  /// one of its keys (a typo in a table would otherwise send users to a key that does not exist).
  @Test func everyAlgorithmChecksItsValuesAndMapsReferenceNamesToRealKeys() throws {
    for type in AlgorithmRegistry.all {
      let finding = try withAlgorithm(type, ConfigurationAudit())
      #expect(finding.problems.isEmpty, "\(finding.id): \(finding.problems)")
      for (name, key) in finding.references {
        #expect(finding.keys.contains(key), "\(finding.id): reference name \(name) maps to unknown key \(key)")
        #expect(!finding.keys.contains(name), "\(finding.id): \(name) is already a key")
      }
      for (old, key) in finding.formerKeys {
        #expect(finding.keys.contains(key), "\(finding.id): former key \(old) maps to unknown key \(key)")
        #expect(!finding.keys.contains(old), "\(finding.id): former key \(old) is a key again")
      }
    }
  }

  /// One name per meaning: IQL's β is `beta`, CQL's log-sum-exp temperature `logsumexp_temperature`; no
  /// configuration has a bare `temperature` key. The old spelling is told as renamed, and CORL's names still lead
  /// to the key.
  @Test func renamedKeysAreToldAsRenamed() throws {
    #expect(try ConfigResolver.resolve(IQL.defaultConfiguration, overrides: ["beta=6"]).beta == 6)
    #expect(try ConfigResolver.resolve(CQL.defaultConfiguration, overrides: ["logsumexp_temperature=2"]).logsumexpTemperature == 2)
    #expect(throws: ConfigResolver.ResolveError.formerKey("temperature", key: "beta")) {
      try ConfigResolver.resolve(IQL.defaultConfiguration, overrides: ["temperature=6"])
    }
    #expect(throws: ConfigResolver.ResolveError.formerKey("temperature", key: "logsumexp_temperature")) {
      try ConfigResolver.resolve(CQL.defaultConfiguration, overrides: ["temperature=2"])
    }
    #expect(throws: ConfigResolver.ResolveError.referenceName("cql_temp", key: "logsumexp_temperature")) {
      try ConfigResolver.resolve(CQL.defaultConfiguration, overrides: ["cql_temp=2"])
    }
    #expect("\(ConfigResolver.ResolveError.formerKey("temperature", key: "beta"))".contains("--set beta=VALUE"))
    for type in AlgorithmRegistry.all {
      #expect(!(try withAlgorithm(type, ConfigurationAudit())).keys.contains("temperature"))
    }
  }

  @Test func outOfRangeValuesAreAllNamedWithTheirRanges() {
    do {
      _ = try ConfigResolver.resolve(CQL.defaultConfiguration, overrides: ["sampled_actions=0", "discount=1.5", "critic_hidden_sizes=256,0"])
      Issue.record("expected an error")
    } catch let error as ConfigResolver.ResolveError {
      guard case .outOfRange(let problems) = error else { Issue.record("wrong error \(error)"); return }
      #expect(problems.count == 3)
      #expect(problems.contains("sampled_actions = 0 must be at least 1"))
      #expect(problems.contains("discount = 1.5 must lie in [0, 1]"))
      #expect(problems.contains("critic_hidden_sizes = [256, 0] must list widths of at least 1"))
    } catch { Issue.record("wrong error \(error)") }
    #expect(throws: ConfigResolver.ResolveError.self) { try ConfigResolver.resolve(IQL.defaultConfiguration, overrides: ["expectile=1"]) }
    #expect(throws: ConfigResolver.ResolveError.self) { try ConfigResolver.resolve(EDAC.defaultConfiguration, overrides: ["critics=1"]) }
    #expect(throws: ConfigResolver.ResolveError.self) { try ConfigResolver.resolve(TD3BC.defaultConfiguration, overrides: ["target_update_rate=0"]) }
    #expect(throws: ConfigResolver.ResolveError.self) { try ConfigResolver.resolve(SAC.defaultConfiguration, overrides: ["initial_temperature=0"]) }
    // Boundary values that are legitimate stay accepted.
    #expect(throws: Never.self) { try ConfigResolver.resolve(TD3BC.defaultConfiguration, overrides: ["discount=1", "target_update_rate=1", "q_weight=0"]) }
  }

  @Test func referenceNamesNameTheKeyAndLoopSettingsNameTheOption() {
    #expect(throws: ConfigResolver.ResolveError.referenceName("cql_alpha", key: "conservative_weight")) {
      try ConfigResolver.resolve(CQL.defaultConfiguration, overrides: ["cql_alpha=5"])
    }
    #expect(throws: ConfigResolver.ResolveError.referenceName("iql_tau", key: "expectile")) {
      try ConfigResolver.resolve(IQL.defaultConfiguration, overrides: ["iql_tau=0.9"])
    }
    #expect(throws: ConfigResolver.ResolveError.referenceName("actor_bc_coef", key: "actor_penalty")) {
      try ConfigResolver.resolve(ReBRAC.defaultConfiguration, overrides: ["actor_bc_coef=0.01"])
    }
    // A name is only translated for the algorithm whose script uses it: `beta` is IQL's β, CQL has no β, so
    // `beta` there is just unknown.
    do {
      _ = try ConfigResolver.resolve(CQL.defaultConfiguration, overrides: ["beta=3"])
      Issue.record("expected an error")
    } catch let error as ConfigResolver.ResolveError {
      guard case .unknownKey = error else { Issue.record("wrong error \(error)"); return }
    } catch { Issue.record("wrong error \(error)") }
    do {
      _ = try ConfigResolver.resolve(TD3BC.defaultConfiguration, overrides: ["batch_size=512"])
      Issue.record("expected an error")
    } catch {
      #expect("\(error)".contains("--batch-size"))
    }
  }
}

/// CORL's per-dataset presets: the values of its YAMLs, applied before --config/--set, and refused where CORL has
/// no config.
@Suite struct CORLPresetTests {
  /// CORL's YAML values, read from its files by scripts/fixtures/make_corl_presets_fixture.py.
  static func corlFixture() throws -> [String: [String: [String: Any]]] {
    let url = try #require(Bundle.module.url(forResource: "Fixtures/corl_presets.json", withExtension: nil))
    let root = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
    return try #require(root["algorithms"] as? [String: [String: [String: Any]]])
  }

  /// Whether a resolved value equals CORL's (float32 configuration values against the YAML's decimals).
  static func same(_ mine: ConfigValue, _ corl: ConfigValue) -> Bool {
    switch (mine, corl) {
    case (.bool(let a), .bool(let b)): return a == b
    case (.number(let a), .number(let b)): return Swift.abs(a - b) <= 1e-6 * Swift.max(1, Swift.abs(b))
    case (.array(let a), .array(let b)): return a.count == b.count && zip(a, b).allSatisfy { same($0, $1) }
    default: return false
    }
  }

  /// For every algorithm and dataset CORL configures, Stitch's defaults with the preset applied equal every
  /// hyperparameter CORL's YAML states (not only those the preset lists: a default that drifted from CORL's shows
  /// too), the preset's reward normalisation is the YAML's `normalize_reward`, the algorithm's loop defaults are
  /// the YAML's batch size and state normalisation, and the preset table lists exactly CORL's datasets.
  @Test func presetsEqualCORLsYAMLFiles() throws {
    let fixture = try Self.corlFixture()
    struct Compare: AlgorithmVisitor {
      let corl: [String: [String: Any]]?
      func visit<A: Algorithm>(_ type: A.Type) throws -> [String] {
        guard let corl else { return CORLPresets.table[A.id] == nil ? [] : ["\(A.id): presets but no CORL YAML"] }
        var problems: [String] = []
        let datasets = CORLPresets.table[A.id]?.datasets ?? []
        if Set(datasets) != Set(corl.keys) { problems.append("\(A.id): datasets \(datasets.sorted()) vs CORL's \(corl.keys.sorted())") }
        for (dataset, entry) in corl.sorted(by: { $0.key < $1.key }) {
          let preset = try CORLPresets.preset(algorithm: A.id, dataset: dataset)
          let resolved = try ConfigResolver.resolve(A.defaultConfiguration, presets: preset.overrides)
          let mine = Dictionary(uniqueKeysWithValues: try ConfigResolver.entries(of: resolved).map { ($0.key, $0.value) })
          for (key, value) in (entry["config"] as? [String: Any] ?? [:]) {
            guard let have = mine[key] else { problems.append("\(A.id) \(dataset): no key \(key)"); continue }
            let want = ConfigValue(jsonObject: value)
            if !CORLPresetTests.same(have, want) { problems.append("\(A.id) \(dataset): \(key) = \(have), CORL \(want)") }
          }
          if preset.normalizeRewards != (entry["normalize_reward"] as? Bool) {
            problems.append("\(A.id) \(dataset): normalize_rewards \(preset.normalizeRewards), CORL \(entry["normalize_reward"] ?? "nil")")
          }
          let training = entry["training"] as? [String: Any] ?? [:]
          if let batch = training["batch_size"] as? Int, batch != A.trainingDefaults.batchSize {
            problems.append("\(A.id) \(dataset): batch size \(A.trainingDefaults.batchSize), CORL \(batch)")
          }
          if let normalize = training["normalize_observations"] as? Bool, normalize != A.trainingDefaults.normalizeObservations {
            problems.append("\(A.id) \(dataset): normalize_observations \(A.trainingDefaults.normalizeObservations), CORL \(normalize)")
          }
        }
        return problems
      }
    }
    var compared = 0
    for type in AlgorithmRegistry.all {
      let problems = try withAlgorithm(type, Compare(corl: fixture[type.id]))
      #expect(problems.isEmpty, "\(problems)")
      compared += fixture[type.id]?.count ?? 0
    }
    #expect(compared == 5 * 18 + 2 * 9)
    #expect(Set(fixture.keys) == Set(CORLPresets.table.keys))
  }

  /// How presets combine and what they refuse: --set wins over a preset; dataset names in any of CORL's spellings;
  /// a dataset or algorithm CORL has no config for is refused.
  @Test func presetsApplyFirstAndRefuseWhatCORLDoesNotConfigure() throws {
    let iql = try CORLPresets.preset(algorithm: "iql", dataset: "hopper_medium_v2")
    #expect(iql == (try CORLPresets.preset(algorithm: "iql", dataset: "hopper-medium")))
    let overridden = try ConfigResolver.resolve(IQL.defaultConfiguration, presets: iql.overrides, overrides: ["target_update_rate=0.005"])
    let presetOnly = try ConfigResolver.resolve(IQL.defaultConfiguration, presets: iql.overrides)
    #expect(presetOnly.targetUpdateRate != 0.005 && overridden.targetUpdateRate == 0.005)
    #expect(overridden.deterministicActor == presetOnly.deterministicActor)
    #expect(throws: CORLPresets.Unknown.self) { try CORLPresets.preset(algorithm: "sacn", dataset: "hopper-random") }
    #expect(throws: CORLPresets.Unknown.self) { try CORLPresets.preset(algorithm: "sac", dataset: "hopper-medium") }
    #expect(throws: CORLPresets.Unknown.self) { try CORLPresets.preset(algorithm: "iql", dataset: "pendulum-medium") }
  }

  /// Every preset of every algorithm resolves against that algorithm's configuration and stays in range.
  @Test func everyPresetResolves() throws {
    struct Resolve: AlgorithmVisitor {
      func visit<A: Algorithm>(_ type: A.Type) throws -> Int {
        guard let entry = CORLPresets.table[A.id] else { return 0 }
        for dataset in entry.datasets {
          _ = try ConfigResolver.resolve(A.defaultConfiguration, presets: try CORLPresets.preset(algorithm: A.id, dataset: dataset).overrides)
        }
        for name in entry.differences.keys { #expect(entry.datasets.contains(name), "\(A.id): preset for unconfigured \(name)") }
        return entry.datasets.count
      }
    }
    var checked = 0
    for type in AlgorithmRegistry.all { checked += try withAlgorithm(type, Resolve()) }
    #expect(checked == 5 * 18 + 2 * 9)
  }

  @Test func aDatasetFileNameSuggestsOnlyPresetsThatChangeSomething() {
    #expect(CORLPresets.suggestion(algorithm: "iql", datasetFile: "data/hopper-medium.hdf5")?.name == "hopper-medium")
    #expect(CORLPresets.suggestion(algorithm: "td3bc", datasetFile: "data/hopper-medium.hdf5") == nil)
    #expect(CORLPresets.suggestion(algorithm: "iql", datasetFile: "data/my-own.hdf5") == nil)
  }
}
